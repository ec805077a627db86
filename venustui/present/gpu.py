"""The guest's virtio-gpu device, said once: features, capsets (Venus or not), the host memory window,
and the errors the host answered commands with; and the Vulkan devices the logs name (which driver, which
host GPU behind Venus)."""

from __future__ import annotations

from venustui.model import Model
from venustui.model.entities import VENUS_CAPSET, VirtioGpu, VulkanDevice
from venustui.numbers import size_text
from venustui.present import BAD, DIM, GOOD, PLAIN, WARN, Row

CAPSET_NAMES = {1: "virgl", 2: "virgl2", 3: "gfxstream", VENUS_CAPSET: "venus", 5: "cross-domain", 6: "drm"}


def gpu_rows(gpu: VirtioGpu) -> list[Row]:
    rows = [Row(f"virtio-gpu ({gpu.source}): features {' '.join(gpu.features) or 'not logged'}",
                PLAIN if "+resource_blob" in gpu.features or not gpu.features else WARN)]
    if gpu.capsets:
        names = ", ".join(f"{CAPSET_NAMES.get(i, f'id {i}')} (id {i}, v{v}, {s} bytes)"
                          for i, (v, s) in sorted(gpu.capsets.items()))
        rows.append(Row(f"  capsets: {names}", GOOD if gpu.venus else BAD))
        if not gpu.venus:
            rows.append(Row("  no Venus capset (id 4): the host does not serve Venus to this guest", BAD))
    if gpu.hostmem_size is not None:
        rows.append(Row(f"  host memory window: {size_text(gpu.hostmem_size)} at 0x{gpu.hostmem_base:x} "
                        "(QEMU's hostmem: where blobs and the ring are mapped)",
                        WARN if gpu.hostmem_size < 1 << 20 else PLAIN))
    elif gpu.features and "+host_visible" not in gpu.features:
        rows.append(Row("  no host memory window (+host_visible missing): host-visible memory cannot be mapped", WARN))
    rows += [Row(f"  host answered {error} ×{count}", BAD) for error, count in gpu.errors.items()]
    if gpu.errors_suppressed:
        rows.append(Row(f"  and {gpu.errors_suppressed} more messages the kernel's rate limit kept out of the log", BAD))
    return rows


# What a device's line says after its name, in this order (vulkaninfo's keys; the loader's library).
DEVICE_DETAILS = ("deviceType", "driverID", "driverName", "driverInfo", "driverVersion", "apiVersion", "library")
CPU_DRIVERS = ("llvmpipe", "lavapipe", "SwiftShader")


def vulkan_device_rows(device: VulkanDevice) -> list[Row]:
    details = [f"{key} {device.properties[key]}" for key in DEVICE_DETAILS if key in device.properties]
    runs = [f"runs {','.join(str(r) for r in sorted(device.runs))}"] if device.runs else []
    said = "; ".join(part for part in (", ".join(details), *runs) if part)
    cpu = not device.venus and any(name in device.name for name in CPU_DRIVERS)
    rows = [Row(f"Vulkan device ({device.source}): {device.name}" + (f"  ({said})" if said else ""),
                GOOD if device.venus else WARN if cpu else PLAIN)]
    if device.host_gpu is not None:
        rows.append(Row(f"  Venus, served by the host's {device.host_gpu}", GOOD))
    return rows


def gpus_rows(model: Model) -> list[Row]:
    rows = [row for source in sorted(model.virtio_gpu) for row in gpu_rows(model.virtio_gpu[source])]
    rows += [row for device in model.vulkan_devices for row in vulkan_device_rows(device)]
    return rows or [Row("no virtio-gpu or Vulkan device logged (the guest kernel's [drm] lines and vulkaninfo show them)",
                        DIM)]
