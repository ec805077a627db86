"""The field's line families, declared once as data: what real Venus setups print around Venus itself.

Each ``Family`` names its side (guest, host, vmm, kernel, app, loader), the literal markers the
fast path looks for anywhere in a line (``index`` derives its table from them), and its payload
rules: (pattern, message kind, level), tried in order on the payload, the part of the line after
its envelope (``envelope.peel``). Kinds listed in ``benign`` are what every healthy setup prints
too (VENUS_FACTS.md's table): recognised, and never above info.

The families here are those of VMMs (QEMU, libkrun/krunkit/muvm), the guest kernel's virtio_gpu
and drm lines, the Vulkan loader, vulkaninfo and applications, assertions, and a guest program's
own steps (``[fencetest]``); Mesa's, virglrenderer's and MoltenVK's own lines keep their rules in
``rules.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from venustui.parse import vkresult
from venustui.parse.text import find_handles

Rule = tuple[re.Pattern[str], str, str]


def _rules(*items: tuple[str, str, str]) -> tuple[Rule, ...]:
    return tuple((re.compile(pattern), what, level) for pattern, what, level in items)


@dataclass(frozen=True)
class Family:
    name: str  # the record's format
    side: str  # guest, host, vmm, kernel, app, loader
    markers: tuple[bytes, ...]  # literals a line must hold for the parser to try the family's rules
    rules: tuple[Rule, ...]  # tried with search() on the payload, in order
    benign: frozenset[str] = field(default_factory=frozenset)
    # Programs whose lines are this family's, by the envelope's program (a syslog/journald/macOS program name
    # or an env_logger target; a prefix of it): a line of theirs no rule knows is still theirs, a "message".
    programs: tuple[str, ...] = ()
    # Literals the fast path looks for anywhere in an unclassified line, to send it to the parser for the
    # model: only what the model follows (errors, the device, steps); the rest is parsed when shown.
    tracked: tuple[bytes, ...] = ()
    # A marker whose lines are tracked only when they also hold one of these words (a prefix most lines
    # of a program carry, its errors among them): (marker, words).
    tracked_if: tuple[bytes, tuple[bytes, ...]] | None = None

    @property
    def text_markers(self) -> tuple[str, ...]:
        return tuple(marker.decode() for marker in self.markers)


_HEX = r"0x[0-9a-fA-F]+"

QEMU = Family("qemu", "vmm", (b"qemu-system-", b"virtio_gpu_", b"virtio-gpu", b"HV_", b"kvm run failed", b"gl_version "), _rules(
    (r"^virtio_gpu_virgl_process_cmd: ctrl (?P<ctrl>" + _HEX + r"), error (?P<error>" + _HEX + r")", "cmd_error", "error"),
    (r"^virtio_gpu_fence_ctrl fence (?P<fence>" + _HEX + r"), type (?P<type>" + _HEX + r")", "fence_ctrl", "debug"),
    (r"^virtio_gpu_fence_resp fence (?P<fence>" + _HEX + r")", "fence_resp", "debug"),
    (r"^(?P<event>virtio_gpu_\w+)\b(?P<args>.*)$", "trace", "debug"),
    (r"Error: ret = (?P<name>HV_\w+) \((?P<code>" + _HEX + r"), at (?P<where>[^)]+)\)", "hvf_error", "error"),
    (r"^(?:qemu-system-\S+: )?kvm run failed (?P<error>.*)$", "kvm_run_failed", "error"),
    (r"^qemu-system-\S+: warning: (?P<message>.*)$", "warning", "warn"),
    # QEMU's error_report(): what fails says "error" or "fail" (the words the fast path looks for in QEMU's
    # lines, tracked_if below); its other prefixed lines (a build's own prints) are info
    (r"^qemu-system-\S+: (?P<message>.*(?:rror|ail).*)$", "error", "error"),
    (r"^qemu-system-\S+: (?P<message>.*)$", "message", "info"),
    # the same, once an envelope has named the program (journald: qemu-system-x86_64[99]: warning: …)
    (r"^warning: (?P<message>.*)$", "warning", "warn"),
    (r"^(?P<message>(?:[Ee]rror|[Ff]ailed|[Cc]annot|[Uu]nable|[Ii]nvalid)\b.*)$", "error", "error"),
    (r"^gl_version (?P<version>\d+) - (?P<profile>.*)$", "gl_version", "info"),
    # Hypervisor.framework results in other shapes (hv_vm_map failed: HV_BAD_ARGUMENT)
    (r"(?P<message>.*?)\b(?P<name>HV_[A-Z_]{4,})\b", "hvf_error", "error"),
    # a pasted QEMU command line, one option a line: -device virtio-gpu-gl,blob=true,venus=true,hostmem=4G \\
    (r"^-(?P<option>[a-z][\w-]*)\s+(?P<value>.*?)\s*\\?$", "option", "info"),
), benign=frozenset({"gl_version", "trace", "fence_ctrl", "fence_resp", "option"}),
   programs=("qemu-system-", "qemu-kvm", "qemu"),
   tracked=(b"HV_", b"kvm run failed", b"virtio_gpu_virgl_process_cmd"),
   tracked_if=(b"qemu-system-", (b"rror", b"ail", b"arning")))

KRUN = Family("krun", "vmm", (b"hvf]", b"krun", b"map_memory", b"vstate]"), _rules(
    (r"^map_memory: err (?P<err>-?\d+)", "hvf_map_error", "error"),
    (r"^map_memory: host_start_addr=(?P<host>" + _HEX + r"), guest_start_addr=(?P<guest>" + _HEX + r"), "
     r"size=(?P<size>" + _HEX + r")", "hvf_map", "info"),
    (r"^Error adding memory map: (?P<error>.*)$", "memory_map_error", "error"),
    (r"^Failure during vcpu run: (?P<error>.*?)(?: \(os error (?P<errno>\d+)\))?$", "vcpu_run_failed", "error"),
    (r"^mapping: host_addr=(?P<host>" + _HEX + r"), addr=(?P<guest>" + _HEX + r"), size=(?P<size>\d+)",
     "gpu_mapping", "debug"),
    # the VMM's own prefixed lines (krunkit: error: …), as bad as they say
    (r"^(?P<prog>(?:lib)?krun\w*|muvm|smolvm)(?:\[\d+\])?: (?P<message>.*(?:rror|ail|annot|nable).*)$", "error", "error"),
    (r"^(?P<prog>(?:lib)?krun\w*|muvm|smolvm)(?:\[\d+\])?: (?P<message>.*)$", "message", "info"),
), programs=("hvf", "krun", "libkrun", "vmm", "devices", "utils", "polly", "muvm", "krunkit", "smolvm"),
   tracked=(b"hvf]", b"krun", b"vstate]"))

KERNEL_DRM = Family("kernel", "kernel", (b"[drm", b"virtio_gpu", b"virtio-gpu"), _rules(
    (r"\[drm:(?P<fn>\w+)(?: \[virtio_gpu\])?\] \*ERROR\* response (?P<response>" + _HEX + r") \(command (?P<command>"
     + _HEX + r")\)", "response_error", "error"),
    (r"\[drm:(?P<fn>\w+)(?: \[\w+\])?\] \*ERROR\* (?P<message>.*)$", "drm_error", "error"),
    (r"\[drm\] features: (?P<features>.*?)\s*$", "features", "info"),
    (r"\[drm\] number of cap sets: (?P<count>\d+)", "capset_count", "info"),
    (r"\[drm\] cap set (?P<index>\d+): id (?P<id>\d+), max-version (?P<version>\d+), max-size (?P<size>\d+)",
     "capset", "info"),
    (r"\[drm\] Host memory window: (?P<base>" + _HEX + r") \+(?P<size>" + _HEX + r")", "hostmem", "info"),
    (r"\[drm\] pci: virtio-gpu-pci detected at (?P<where>\S+)", "detected", "info"),
    (r"\[drm\] Initialized virtio_gpu (?P<version>\S+)", "initialized", "info"),
    (r"\[drm\] (?P<message>.*)$", "drm", "info"),
    (r"(?P<message>.*(?:virtio_gpu:|\[virtio_gpu\]|virtio_gpudrmfb|virtio-gpu-pci detected).*)$", "virtio_gpu", "info"),
), tracked=(b"[drm",))

LOADER = Family("loader", "loader", (b"Loader Message", b"Skipping ICD", b"XDG_RUNTIME_DIR", b"INCOMPATIBLE_DRIVER",
                                     b"environment variable not set"), _rules(
    (r"\[Loader Message\] Code (?P<code>\d+) : .*?Failed to CreateInstance in ICD (?P<icd>\d+)\.", "icd_skipped", "warn"),
    (r"^(?P<severity>WARNING|ERROR|INFO|DEBUG): \[Loader Message\] Code (?P<code>\d+) : (?P<message>.*)$",
     "loader_message", "info"),
    (r"^ERROR: \[(?P<where>[^\]]+)\] Code (?P<code>\d+) : (?P<message>.*?)(?:\s*\((?P<result>VK_ERROR_\w+)\))?$",
     "driver_declined", "info"),
    (r"XDG_RUNTIME_DIR is invalid or not set", "xdg_runtime_dir", "info"),
    (r"'DISPLAY' environment variable not set", "no_display", "info"),
), benign=frozenset({"driver_declined", "xdg_runtime_dir", "no_display", "loader_message"}),
   tracked=(b"Skipping ICD",))

VULKANINFO = Family("vulkaninfo", "app", (b"deviceName", b"driverID", b"driverInfo", b"Instance Version", b"Device Name"),
                    _rules(
    (r"^(?P<key>deviceName|driverID|driverName|driverInfo|apiVersion|driverVersion|deviceType|vendorID|deviceID)"
     r"\s*=\s*(?P<value>.*?)\s*$", "device_field", "info"),
    (r"^Device Name:\s+(?P<value>.*?)\s*$", "device_name", "info"),
    (r"^Vulkan Instance Version: (?P<version>\S+)", "instance_version", "info"),
    (r"^GPU(?P<index>\d+):$", "gpu", "info"),
), tracked=(b"deviceName", b"Device Name"))

APP = Family("app", "app", (b"failed with ", b"ErrorOutOf", b"Error", b"Assertion", b"ggml_vulkan", b"ERROR_"),
             _rules(
    (r"(?P<prog>[^\s:]+): (?P<file>[^:\s]+):(?P<line>\d+): (?P<function>\w+): Assertion [`'](?P<expression>.*)' failed\.",
     "assertion", "error"),
    (r"(?P<file>[^:\s]+):(?P<line>\d+): (?P<function>\w+): Assertion [`'](?P<expression>.*)' failed\.",
     "assertion", "error"),
    # macOS (and BSD) assert(): Assertion failed: (expr), function f, file x.c, line 12.
    (r"Assertion failed: \((?P<expression>.*)\), function (?P<function>[\w:~]+), file (?P<file>[^,]+), "
     r"line (?P<line>\d+)", "assertion", "error"),
    (r"(?P<call>vk[A-Z]\w+) failed with (?:VK_)?(?P<result>ERROR_\w+)", "vk_call_failed", "error"),
    (r"(?P<call>vk::\w+::\w+): (?P<result>Error\w+)", "vk_call_failed", "error"),
    (r"^ggml_vulkan: (?P<index>\d+) = (?P<device>.+?) \((?P<driver>\w+)\) \|", "device_line", "info"),
    (r"\b(?P<result>VK_ERROR_\w+)\b", "vk_error", "error"),
), tracked=(b"ERROR_", b"ErrorOutOf", b"Assertion"))

FENCETEST = Family("step", "guest", (b"[fencetest]",), _rules(
    (r"^\[fencetest\] (?P<call>vk\w+)\((?P<args>[^)]*)\)\s*-> (?P<ret>-?\d+) \(t=(?P<t>[\d.]+)s\)", "call", "info"),
    (r"^\[fencetest\] poll (?P<n>\d+) (?P<call>vk\w+) -> (?P<ret>-?\d+)", "poll", "debug"),
    (r"^\[fencetest\] (?P<call>vkWaitForFences)\((?P<args>[^)]*)\) -> (?P<ret>-?\d+)", "call", "info"),
    (r"^\[fencetest\] got queue (?P<queue>" + _HEX + r")", "queue", "info"),
    (r"^\[fencetest\] GPU(?P<index>\d+): (?P<device>.+?) \(api", "device", "info"),
    (r"^\[fencetest\] RESULT: (?P<result>\w+)", "result", "info"),
    (r"^\[fencetest\] (?P<message>.*)$", "message", "info"),
), tracked=(b"[fencetest]",))

# virglrenderer's and the render server's own prints that are not `vkr:` lines: debug prints of its
# functions (`vkr_context_add_resource: res_id = 5`, `virgl_resource_create: err=0, res=2`,
# `render_receive_request: …`), and whatever the render server logs under its own program name.
VIRGL = Family("virglrenderer", "host", (b"vkr_", b"virgl_", b"vrend_", b"render_"), _rules(
    (r"^(?P<fn>(?:vkr|virgl|vrend|render|proxy)_\w+)(?:\(\))?: ?(?P<message>.*)$", "debug_print", "debug"),
), programs=("virgl_render_server", "virgl_test_server", "virglrenderer", "render_server"))

# A pasted terminal: the prompt and the command the user ran (`user@host:~$ vkcube`, `# vulkaninfo`).
# No marker: the model has no use for it, only a reader of the log does (it says what ran next).
SHELL = Family("shell", "app", (), _rules(
    (r"^(?:[\w.\-]+@[\w.\-]+[^\s$#]*\s?[^$#\n]{0,60}?[$#]|[$#]) (?P<command>\S.*)$", "command", "info"),
), benign=frozenset({"command"}))

FAMILIES = (KERNEL_DRM, QEMU, KRUN, LOADER, VULKANINFO, FENCETEST, APP, VIRGL, SHELL)
BY_PROGRAM = {program: family for family in FAMILIES for program in family.programs}

# vulkan.hpp's names for results (ErrorOutOfHostMemory) in VkResult's spelling.
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def vk_result_name(spelled: str) -> str:
    """VK_ERROR_OUT_OF_HOST_MEMORY from ErrorOutOfHostMemory or ERROR_OUT_OF_HOST_MEMORY."""
    if spelled.startswith("VK_"):
        return spelled
    if "_" in spelled or spelled.isupper():
        return "VK_" + spelled
    return "VK_" + _CAMEL.sub("_", spelled).upper()


def family_of_program(program: str) -> Family | None:
    """The family of a program named by an envelope (``krun_vmm::linux::vstate`` → krun, ``qemu-system-aarch64``
    → qemu, ``/usr/libexec/virgl_render_server`` → virglrenderer)."""
    root = program.split("::", 1)[0].rsplit("/", 1)[-1]
    return BY_PROGRAM.get(root) or next((f for p, f in BY_PROGRAM.items() if root.startswith(p)), None)


LOGGER_LEVELS = {"ERROR": "error", "WARN": "warn", "INFO": "info", "DEBUG": "debug", "TRACE": "debug",
                 "Error": "error", "Fault": "error", "Default": "info", "Info": "info", "Debug": "debug",
                 "emerg": "error", "alert": "error", "crit": "error", "error": "error", "warn": "warn",
                 "notice": "info", "info": "info", "debug": "debug"}
# A guest program's Vulkan calls, as the steps the model follows (number and role).
FENCETEST_STEPS = {"vkCreateInstance": (1, "instance"), "vkEnumeratePhysicalDevices": (2, "physdev"),
                   "vkCreateDevice": (3, "device"), "vkCreateFence": (5, "fence"), "vkQueueSubmit": (6, "submit"),
                   "vkGetFenceStatus": (7, "status"), "vkWaitForFences": (8, "wait")}


def _fencetest(text: str, what: str, fields: dict, head: str) -> tuple:
    """[fencetest] lines (this project's guest program) as steps: a call with its result, the queue it got."""
    handles = find_handles(head)
    if what in ("call", "poll") and fields.get("call") in FENCETEST_STEPS:
        num, role = FENCETEST_STEPS[fields["call"]]
        code = int(fields["ret"])
        step = {"num": num, "name": fields["call"].removeprefix("vk"), "role": role, "value": fields["ret"],
                "result": vkresult.name_of(code), "code": code}
        return ("step", "step", text, "error" if code < 0 else "info", step, handles)
    if what == "queue":
        step = {"num": 4, "name": "Queue", "role": "queue", "handle": int(fields["queue"], 16),
                "result": "VK_SUCCESS", "code": 0}
        return ("step", "step", text, "info", step, handles)
    level = "error" if what == "result" and "SIGNALED" not in fields.get("result", "") else "info"
    return ("step", f"fencetest_{what}", text, level, fields, handles)


def recognise(text: str, head: str, wrapped) -> tuple[tuple, ...] | None:
    """A payload's record in the field's families: an env_logger line by its target, else by markers; None
    for none. wrapped is the line's envelope (parse/envelope.py)."""
    program = family_of_program(wrapped.fields["prog"]) if "prog" in wrapped.fields else None
    if program is not None:
        parts = apply(program, text, head)
        if parts is not None:
            return (parts,)
    for family in FAMILIES:
        if family is program or family.markers and not any(marker in head for marker in family.text_markers):
            continue
        parts = apply(family, text, head)
        if parts is not None:
            return (parts,)
    if program is not None:  # no rule knew it: a message of that program, as bad as its envelope says
        level = LOGGER_LEVELS.get(wrapped.fields.get("level", ""), "info")
        return ((program.name, "message", text, level, {"message": head}, find_handles(head)),)
    return None


def apply(family: Family, text: str, head: str) -> tuple | None:
    """The record (as parts) of the first of the family's rules found in head; None for none."""
    for pattern, what, level in family.rules:
        match = pattern.search(head)
        if match:
            fields = {k: v for k, v in match.groupdict().items() if v is not None}
            if family is FENCETEST:
                return _fencetest(text, what, fields, head)
            if "result" in fields and family is APP:
                fields["result"] = vk_result_name(fields["result"])
                fields["code"] = vkresult.code_of(fields["result"])
            if what in family.benign:
                level = "info" if level != "debug" else level
            return (family.name, what, text, level, fields, find_handles(head))
    return None
