"""The Vulkan probe: the seed's fence steps and the feedback-slot experiment, as JSON lines.

Runs in its own process (``python -m venustui.probe.program``) and imports only the
standard library and the ``vulkan`` package, so it can be copied to a guest or a GPU
machine as is. Every step is announced before it starts (``begin``) and reported
when it ends (``step``), so whoever reads the stream knows which call hung.

Phases:
  fence  instance, physical device, device, queue (vkGetDeviceQueue2 where the device
         has Vulkan 1.1), fence, an empty submit with the fence, status, wait; then how
         many status polls it took to signal and how fast polling runs.
  map    the feedback mechanism by hand: a HOST_VISIBLE+HOST_COHERENT buffer as a
         slot (allocate, bind, map), a command buffer that fills it with VK_SUCCESS after
         a barrier (as Venus's feedback commands do), a submit with a fence, then the
         fence status and the mapped slot polled side by side until both signal.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import sys
import time

EXIT_FAILED, EXIT_SETUP = 1, 3
SLOT_NOT_READY, SLOT_SUCCESS = 1, 0


def emit(event: str, **data) -> None:
    data["ev"] = event
    data["mono"] = time.monotonic()
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


class Abort(Exception):
    """A step failed: the phase ends with the step's result."""


class SetupError(Exception):
    """The probe cannot run at all here (no loader, no driver): one line says why."""


def load_vulkan():
    loader = os.environ.get("VENUSTUI_VULKAN_LOADER")
    if loader:
        try:
            ctypes.CDLL(loader, mode=ctypes.RTLD_GLOBAL)  # the vulkan package then finds it by soname
        except OSError as exc:
            raise SetupError(f"no Vulkan loader at {loader} ({exc}); fix VENUSTUI_VULKAN_LOADER") from None
    try:
        import vulkan
    except OSError:
        raise SetupError("no Vulkan loader (libvulkan.so.1) found: install libvulkan1 "
                         "(or point VENUSTUI_VULKAN_LOADER at one)") from None
    except ImportError:
        raise SetupError("the Python 'vulkan' package is missing: pip install vulkan") from None
    return vulkan


def check_manifests() -> None:
    for variable in ("VK_DRIVER_FILES", "VK_ICD_FILENAMES"):
        value = os.environ.get(variable)
        if not value:
            continue
        missing = [p for p in value.split(os.pathsep) if p and not os.path.exists(p)]
        if missing:
            raise SetupError(f"{variable} names {', '.join(missing)}, which does not exist: fix the path "
                             f"(VK_LOADER_DEBUG=error,driver shows what the loader searched)")
        return  # the loader uses the first of the two that is set


class Probe:
    def __init__(self, vk, deadline: float):
        self.vk = vk
        self.deadline = deadline
        self.phase = ""
        self.result_names = {getattr(vk, n): n for n in dir(vk) if n.startswith("VK_") and
                             (n.startswith("VK_ERROR_") or n in ("VK_SUCCESS", "VK_NOT_READY", "VK_TIMEOUT",
                                                                 "VK_INCOMPLETE", "VK_EVENT_SET", "VK_EVENT_RESET"))
                             and isinstance(getattr(vk, n), int)}
        self.instance = self.physical = self.device = self.queue = None
        self.api_version = 0
        self.family = 0

    # one step ---------------------------------------------------------------
    def step(self, name: str, call, describe=None):
        emit("begin", phase=self.phase, step=name)
        start = time.perf_counter()
        try:
            value = call()
            result = "VK_SUCCESS"
        except self.vk.VkNotReady:
            value, result = None, "VK_NOT_READY"
        except self.vk.VkTimeout:
            value, result = None, "VK_TIMEOUT"
        except (self.vk.VkError, self.vk.VkException) as exc:
            value, result = None, self.exception_name(exc)
        ms = (time.perf_counter() - start) * 1000
        info = describe(value) if describe is not None and value is not None else {}
        emit("step", phase=self.phase, step=name, result=result, ms=round(ms, 4), **info)
        if result not in ("VK_SUCCESS", "VK_NOT_READY"):
            raise Abort(name, result)
        return value, result

    def exception_name(self, exc) -> str:
        snake = "".join("_" + c if c.isupper() else c for c in type(exc).__name__).upper().lstrip("_")
        return snake if snake.startswith("VK_") else f"VK_{snake}"

    def handle(self, obj) -> str:
        return hex(int(self.vk.ffi.cast("uintptr_t", obj)))

    # shared steps -------------------------------------------------------------
    def open_device(self) -> None:
        vk = self.vk
        app = vk.VkApplicationInfo(pApplicationName="venustui-probe", applicationVersion=1,
                                   pEngineName="venustui", engineVersion=1, apiVersion=vk.VK_MAKE_VERSION(1, 2, 0))
        self.instance, _ = self.step("instance", lambda: vk.vkCreateInstance(
            vk.VkInstanceCreateInfo(pApplicationInfo=app), None))

        def pick():
            devices = vk.vkEnumeratePhysicalDevices(self.instance)
            if not devices:
                raise vk.VkErrorInitializationFailed()
            return devices[0]

        self.physical, _ = self.step("physdev", pick, describe=self.describe_physical)
        families = vk.vkGetPhysicalDeviceQueueFamilyProperties(self.physical)
        wanted = vk.VK_QUEUE_GRAPHICS_BIT | vk.VK_QUEUE_COMPUTE_BIT | vk.VK_QUEUE_TRANSFER_BIT
        # Venus attaches feedback only on families with graphics, compute or transfer.
        self.family = next((i for i, f in enumerate(families) if f.queueFlags & wanted), 0)
        queue_info = vk.VkDeviceQueueCreateInfo(queueFamilyIndex=self.family, queueCount=1, pQueuePriorities=[1.0])
        self.device, _ = self.step("device", lambda: vk.vkCreateDevice(
            self.physical, vk.VkDeviceCreateInfo(queueCreateInfoCount=1, pQueueCreateInfos=[queue_info]), None),
            describe=lambda d: {"handle": self.handle(d), "queue_family": self.family})
        if self.api_version >= vk.VK_MAKE_VERSION(1, 1, 0):
            get = lambda: vk.vkGetDeviceQueue2(self.device, vk.VkDeviceQueueInfo2(  # noqa: E731
                queueFamilyIndex=self.family, queueIndex=0))
            how = "vkGetDeviceQueue2"
        else:
            get = lambda: vk.vkGetDeviceQueue(self.device, self.family, 0)  # noqa: E731
            how = "vkGetDeviceQueue"
        self.queue, _ = self.step("queue", get, describe=lambda q: {"handle": self.handle(q), "via": how})

    def describe_physical(self, physical) -> dict:
        vk = self.vk
        props = vk.vkGetPhysicalDeviceProperties(physical)
        self.api_version = props.apiVersion
        info = {"name": props.deviceName if isinstance(props.deviceName, str) else vk.ffi.string(props.deviceName).decode(),
                "api_version": f"{props.apiVersion >> 22}.{(props.apiVersion >> 12) & 0x3FF}.{props.apiVersion & 0xFFF}",
                "vendor_id": hex(props.vendorID), "device_id": hex(props.deviceID)}
        if props.apiVersion >= vk.VK_MAKE_VERSION(1, 2, 0):
            driver = vk.VkPhysicalDeviceDriverProperties()
            vk.vkGetPhysicalDeviceProperties2(physical, vk.VkPhysicalDeviceProperties2(pNext=driver))
            ids = {getattr(vk, n): n for n in dir(vk) if n.startswith("VK_DRIVER_ID_") and
                   isinstance(getattr(vk, n), int) and not n.endswith("_KHR") and "MAX_ENUM" not in n}
            info.update(driver_id=ids.get(driver.driverID, str(driver.driverID)),
                        driver_name=vk.ffi.string(driver.driverName).decode(errors="replace"),
                        driver_info=vk.ffi.string(driver.driverInfo).decode(errors="replace"))
        return info

    def wait_for(self, poll, limit: float) -> tuple[bool, int, float]:
        """Poll until true or limit seconds pass: (signaled, polls, ms)."""
        polls = 0
        start = time.perf_counter()
        end = start + limit
        while True:
            polls += 1
            if poll():
                return True, polls, (time.perf_counter() - start) * 1000
            if polls & 0xFF == 0 and time.perf_counter() > end:
                return False, polls, (time.perf_counter() - start) * 1000

    # phases -------------------------------------------------------------------
    def fence_phase(self, watch: float | None, rounds: int | None) -> None:
        vk = self.vk
        self.phase = "fence"
        self.open_device()
        fence, _ = self.step("fence", lambda: vk.vkCreateFence(self.device, vk.VkFenceCreateInfo(), None),
                             describe=lambda f: {"handle": self.handle(f)})
        self.step("submit", lambda: vk.vkQueueSubmit(self.queue, 0, None, fence))
        self.step("status", lambda: vk.vkGetFenceStatus(self.device, fence))
        status = vk.lib.vkGetFenceStatus
        signaled, polls, ms = self.wait_for(lambda: status(self.device, fence) == 0, self.deadline)
        emit("metric", phase=self.phase, name="polls_until_signaled", polls=polls, ms=round(ms, 4),
             signaled=signaled)
        self.step("wait", lambda: vk.vkWaitForFences(self.device, 1, [fence], vk.VK_TRUE,
                                                      int(self.deadline * 1e9)))
        self.poll_rates(fence)
        emit("phase", phase=self.phase, outcome="passed")
        if watch:
            self.watch(fence, None, watch, rounds)

    def poll_rates(self, fence) -> None:
        """Status polls per second on a signaled fence: the probe's loop, and a bare loop beside it."""
        status = self.vk.lib.vkGetFenceStatus
        device = self.device
        _, polls, ms = self.wait_for(lambda: status(device, fence) == 99, 0.3)  # never true: runs 0.3 s
        ours = polls / (ms / 1000)
        count = 0
        start = time.perf_counter()
        # At most 100k polls or 0.3 s: a status that is a host round trip (Mesa 26.2) runs ~17k/s.
        while count < 100_000 and (count % 1024 or time.perf_counter() - start < 0.3):
            status(device, fence)
            count += 1
        bare = count / (time.perf_counter() - start)
        emit("metric", phase=self.phase, name="poll_rate", polls_per_s=round(ours), bare_polls_per_s=round(bare),
             ratio=round(ours / bare, 3))

    def map_phase(self, watch: float | None, rounds: int | None) -> None:
        vk = self.vk
        self.phase = "map"
        self.open_device()
        size = 4096  # Venus's feedback buffers are 4096 bytes of 8-byte slots
        buffer, _ = self.step("buffer", lambda: vk.vkCreateBuffer(self.device, vk.VkBufferCreateInfo(
            size=size, usage=vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT, sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE), None))
        needs = vk.vkGetBufferMemoryRequirements(self.device, buffer)
        memory_props = vk.vkGetPhysicalDeviceMemoryProperties(self.physical)
        wanted = vk.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | vk.VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
        index = next((i for i in range(memory_props.memoryTypeCount)
                      if needs.memoryTypeBits & (1 << i) and memory_props.memoryTypes[i].propertyFlags & wanted == wanted),
                     None)
        if index is None:
            emit("step", phase=self.phase, step="alloc", result="VK_ERROR_FEATURE_NOT_PRESENT", ms=0.0,
                 note="no HOST_VISIBLE+HOST_COHERENT memory type")
            raise Abort("alloc", "VK_ERROR_FEATURE_NOT_PRESENT")
        memory, _ = self.step("alloc", lambda: vk.vkAllocateMemory(self.device, vk.VkMemoryAllocateInfo(
            allocationSize=needs.size, memoryTypeIndex=index), None),
            describe=lambda m: {"memory_type": index, "handle": self.handle(m)})
        self.step("bind", lambda: vk.vkBindBufferMemory(self.device, buffer, memory, 0))
        mapped, _ = self.step("map", lambda: vk.vkMapMemory(self.device, memory, 0, size, 0))
        mapped[0:4] = SLOT_NOT_READY.to_bytes(4, "little")
        pool, _ = self.step("command_pool", lambda: vk.vkCreateCommandPool(self.device, vk.VkCommandPoolCreateInfo(
            queueFamilyIndex=self.family, flags=vk.VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT), None))
        (command,), _ = self.step("command_buffer", lambda: vk.vkAllocateCommandBuffers(
            self.device, vk.VkCommandBufferAllocateInfo(commandPool=pool, level=vk.VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                                       commandBufferCount=1)))
        self.step("record", lambda: self.record_fill(command, buffer))
        fence, _ = self.step("fence", lambda: vk.vkCreateFence(self.device, vk.VkFenceCreateInfo(), None),
                             describe=lambda f: {"handle": self.handle(f)})
        self.submit_and_poll(command, fence, mapped, first=True)
        emit("phase", phase=self.phase, outcome="passed")
        if watch:
            self.watch(fence, (command, mapped), watch, rounds)

    def record_fill(self, command, buffer) -> None:
        """Barrier (all commands → transfer), fill 4 bytes of VK_SUCCESS, barrier (transfer → host)."""
        vk = self.vk
        vk.vkBeginCommandBuffer(command, vk.VkCommandBufferBeginInfo())
        before = vk.VkMemoryBarrier(srcAccessMask=vk.VK_ACCESS_MEMORY_WRITE_BIT,
                                    dstAccessMask=vk.VK_ACCESS_TRANSFER_WRITE_BIT)
        vk.vkCmdPipelineBarrier(command, vk.VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, vk.VK_PIPELINE_STAGE_TRANSFER_BIT,
                                0, 1, [before], 0, None, 0, None)
        vk.vkCmdFillBuffer(command, buffer, 0, 4, SLOT_SUCCESS)
        after = vk.VkMemoryBarrier(srcAccessMask=vk.VK_ACCESS_TRANSFER_WRITE_BIT,
                                   dstAccessMask=vk.VK_ACCESS_HOST_READ_BIT)
        vk.vkCmdPipelineBarrier(command, vk.VK_PIPELINE_STAGE_TRANSFER_BIT, vk.VK_PIPELINE_STAGE_HOST_BIT,
                                0, 1, [after], 0, None, 0, None)
        vk.vkEndCommandBuffer(command)

    def submit_and_poll(self, command, fence, mapped, first: bool) -> None:
        vk = self.vk
        submit = vk.VkSubmitInfo(commandBufferCount=1, pCommandBuffers=[command])
        if first:
            self.step("submit", lambda: vk.vkQueueSubmit(self.queue, 1, [submit], fence))
        else:
            vk.vkQueueSubmit(self.queue, 1, [submit], fence)
        status = vk.lib.vkGetFenceStatus
        device = self.device
        start = time.perf_counter()
        fence_at = slot_at = None
        polls = 0
        emit("begin", phase=self.phase, step="poll")
        while time.perf_counter() - start < self.deadline:
            polls += 1
            now = (time.perf_counter() - start) * 1000
            if fence_at is None and status(device, fence) == 0:
                fence_at = now
            if slot_at is None and int.from_bytes(mapped[0:4], "little") == SLOT_SUCCESS:
                slot_at = now
            if fence_at is not None and slot_at is not None:
                break
        disagreement = ""
        if (fence_at is None) != (slot_at is None):
            disagreement = ("fence signaled but the slot never changed" if slot_at is None
                            else "slot written but the fence never signaled")
        emit("step" if first else "sample", phase=self.phase, step="poll",
             result="VK_SUCCESS" if fence_at is not None and slot_at is not None else "VK_TIMEOUT",
             ms=round((time.perf_counter() - start) * 1000, 4), polls=polls,
             fence_ms=None if fence_at is None else round(fence_at, 4),
             slot_ms=None if slot_at is None else round(slot_at, 4), disagreement=disagreement)
        if first and (fence_at is None or slot_at is None):
            raise Abort("poll", "VK_TIMEOUT")

    def watch(self, fence, slot, interval: float, rounds: int | None) -> None:
        """Resubmit every interval and stream what the fence (and slot) do: for a screen to follow live."""
        vk = self.vk
        done = 0
        while rounds is None or done < rounds:
            time.sleep(interval)
            vk.vkResetFences(self.device, 1, [fence])
            if slot is None:
                vk.vkQueueSubmit(self.queue, 0, None, fence)
                signaled, polls, ms = self.wait_for(lambda: vk.lib.vkGetFenceStatus(self.device, fence) == 0,
                                                    self.deadline)
                emit("sample", phase=self.phase, step="poll", result="VK_SUCCESS" if signaled else "VK_TIMEOUT",
                     polls=polls, fence_ms=round(ms, 4) if signaled else None)
            else:
                command, mapped = slot
                mapped[0:4] = SLOT_NOT_READY.to_bytes(4, "little")
                self.submit_and_poll(command, fence, mapped, first=False)
            done += 1


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="venustui probe", description=__doc__.splitlines()[0])
    parser.add_argument("--phase", default="fence,map", help="fence, map or fence,map (default)")
    parser.add_argument("--deadline", type=float, default=5.0, help="seconds to wait for a fence or slot")
    parser.add_argument("--watch", type=float, metavar="SECONDS", help="resubmit every SECONDS and stream samples")
    parser.add_argument("--rounds", type=int, help="with --watch: stop after this many resubmits")

    def error(message):
        sys.stderr.write(f"venustui probe: {message} (see --help)\n")
        raise SystemExit(2)

    parser.error = error
    args = parser.parse_args(argv)
    phases = [p.strip() for p in args.phase.split(",") if p.strip()]
    unknown = [p for p in phases if p not in ("fence", "map")]
    if unknown or not phases:
        error(f"unknown phase {', '.join(unknown) or '(none)'}: use fence, map or fence,map")
    args.phases = phases
    return args


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    emit("probe", pid=os.getpid(), phases=args.phases,
         env={k: os.environ[k] for k in ("VN_PERF", "VN_DEBUG", "VK_DRIVER_FILES", "VK_ICD_FILENAMES",
                                          "VTEST_SOCKET_NAME") if k in os.environ})
    try:
        check_manifests()
        vk = load_vulkan()
    except SetupError as exc:
        emit("error", message=str(exc))
        sys.stderr.write(f"venustui probe: {exc}\n")
        return EXIT_SETUP
    failed = False
    for phase in args.phases:
        probe = Probe(vk, args.deadline)
        try:
            getattr(probe, f"{phase}_phase")(args.watch, args.rounds)
        except Abort as abort:
            step, result = abort.args
            emit("phase", phase=phase, outcome="failed", step=step, result=result)
            failed = True
            if step == "instance" and result == "VK_ERROR_INCOMPATIBLE_DRIVER":
                message = ("the loader found no usable Vulkan driver: check VK_DRIVER_FILES / VK_ICD_FILENAMES "
                           "(VK_LOADER_DEBUG=error,driver shows why a driver was dropped)")
                emit("error", message=message)
                sys.stderr.write(f"venustui probe: {message}\n")
                return EXIT_SETUP
    return EXIT_FAILED if failed else 0


if __name__ == "__main__":
    sys.exit(main())
