"""The Vulkan devices a source's lines name (vulkaninfo's blocks, an application's device line, the loader, a
test program), with what they say of each (driver, API version, type) and the runs that used it."""

from __future__ import annotations

from collections.abc import Iterator
from string import hexdigits as HEX_DIGITS

from venustui.events import Record
from venustui.model.entities import Run, VulkanDevice

# The lines that name a Vulkan device, by (format, kind), and the field holding its name.
DEVICE_NAMING = {("vulkaninfo", "device_field"): "value", ("vulkaninfo", "device_name"): "value",
                 ("vulkaninfo", "device_listed"): "value", ("app", "venus_device"): "device",
                 ("app", "device_line"): "device", ("step", "fencetest_device"): "device",
                 ("loader", "device_driver"): "device"}
DEVICE_NAMING_KINDS = frozenset(what for _, what in DEVICE_NAMING)
# What else those lines say of the device, by field (a vulkaninfo block's own keys are kept as they are).
DEVICE_PROPERTIES = {"driver": "driverName", "type": "deviceType", "library": "library", "api": "apiVersion",
                     "driver_version": "driverVersion"}
# VkPhysicalDeviceType by number (a test program prints the number), as vulkaninfo names it
DEVICE_TYPES = ("PHYSICAL_DEVICE_TYPE_OTHER", "PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU", "PHYSICAL_DEVICE_TYPE_DISCRETE_GPU",
                "PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU", "PHYSICAL_DEVICE_TYPE_CPU")
# Drivers that pack driverVersion their own way (10.8.8.6 bits) instead of Vulkan's major.minor.patch (10.10.12).
NVIDIA_NAMES = ("NVIDIA", "GeForce", "Quadro", "Tesla", "RTX")


def driver_version_text(raw: str, device_name: str) -> str:
    """A driverVersion printed as a bare number, said as the version it packs (the number kept): Mesa drivers,
    Venus included (it reports the guest's Mesa), use Vulkan's packing; NVIDIA's own driver its own."""
    number = raw.split(" (0x")[0]  # older vulkaninfo: "104857607 (0x6400007)"
    if number.startswith(("0x", "0X")) and len(number) > 2 and all(c in HEX_DIGITS for c in number[2:]):
        value = int(number, 16)
    elif number.isascii() and number.isdigit():
        value = int(number)
    else:  # already said as a version (vulkaninfo prints "25.0.7 (104857607)")
        return raw
    if "Venus" not in device_name and any(name in device_name for name in NVIDIA_NAMES):
        return f"{value >> 22}.{(value >> 14) & 0xff}.{(value >> 6) & 0xff}.{value & 0x3f} ({number})"
    return f"{value >> 22}.{(value >> 12) & 0x3ff}.{value & 0xfff} ({number})"


class VulkanDevices:
    """The devices by (source, name), in the order they were first named."""

    def __init__(self) -> None:
        self.by_name: dict[tuple[str, str], VulkanDevice] = {}
        # per source, the vulkaninfo block being read: its device (once named) and the fields seen before its name
        self._block: dict[str, tuple[VulkanDevice | None, dict[str, str]]] = {}

    def __iter__(self) -> Iterator[VulkanDevice]:
        return iter(self.by_name.values())

    def __len__(self) -> int:
        return len(self.by_name)

    def note(self, rec: Record, run: Run | None) -> None:
        """A line naming a device, or (in a vulkaninfo block) one of its properties: a block's apiVersion and
        deviceType come before its deviceName, its driverID and driverInfo after."""
        naming = DEVICE_NAMING.get((rec.fmt, rec.what))
        if naming is None:
            return
        f, source = rec.fields, rec.source
        current, before = self._block.get(source, (None, {}))
        key = f.get("key")
        if key is not None and key != "deviceName":
            if current is not None and key not in current.properties:
                current.properties[key] = f["value"]
            else:  # the next device's
                self._block[source] = (current, {**before, key: f["value"]})
            return
        name = f.get(naming)
        if not name:
            return
        device = self.by_name.get((source, name))
        if device is None:
            device = self.by_name[(source, name)] = VulkanDevice(source, rec.seq, name)
        device.properties.update({DEVICE_PROPERTIES[k]: v for k, v in f.items() if k in DEVICE_PROPERTIES})
        number = device.properties.get("deviceType", "")
        if number.isdigit() and int(number) < len(DEVICE_TYPES):
            device.properties["deviceType"] = DEVICE_TYPES[int(number)]
        if "driverVersion" in device.properties:
            device.properties["driverVersion"] = driver_version_text(device.properties["driverVersion"], name)
        if rec.what in ("device_field", "device_name"):  # a block's name: what came before it is this device's
            for known, value in before.items():
                device.properties.setdefault(known, value)
            self._block[source] = (device, {})
        if run is not None:
            device.runs.add(run.id)
            run.facts["vulkan_device"] = name
