"""Every line family venustui reads, declared once, as data: the registry the fast path, the parser and
the model derive their tables from.

A ``Family`` names its side (guest, host, vmm, kernel, app, loader) and how its lines are found:
``starts`` (a line starting so is the family's: the index's first-bytes tests and the parser's
dispatch), ``anywhere`` (a literal that makes a line the family's wherever it sits), ``markers``
(literals a payload must hold before the family's rules are searched in it), ``tracked`` (literals
that send an unclassified line to the parser: the family's payload behind an envelope or glued after
other output), ``tracked_own`` (literals that make a line already known as the family's worth
parsing for the model) and ``glued`` (payload starts that may follow other output on a line). Its
``rules`` are (pattern, message kind, level); kinds in ``benign`` are what every healthy setup prints
too (VENUS_FACTS.md's table): recognised, and never above info. ``calls`` are the [VKR] functions the
model follows. User ``[[rules]]`` become families too (``user_family``), so the fast path and the
model treat them the same way.

The parser's own code (parse/__init__.py) splits the structured families (Mesa's logger, [VKR]
prints, the render server's ``vkr:`` lines, MoltenVK, numbered steps, the kernel) into fields; the
others are their rules alone, searched in a line's payload (``recognise``).

The module passes 500 lines because it is the registry: the families one after another, as data; split
across files, a family's declaration would again live in more than one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from venustui import decoders
from venustui.parse import vkresult
from venustui.parse.rules import LEVELS, level_from_words
from venustui.parse.text import find_handles

Rule = tuple["LazyPattern", str, str]


class LazyPattern:
    """A rule's regex, compiled when first used: a one-shot run (diagnose on a paste) meets a few families of the
    registry's hundred-odd rules, and compiling them all cost ~15 ms of its start-up."""

    __slots__ = ("pattern", "_compiled")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def _regex(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.pattern)
        return compiled

    def search(self, text: str, *args):
        return (self._compiled or self._regex()).search(text, *args)

    def match(self, text: str, *args):
        return (self._compiled or self._regex()).match(text, *args)


def _rules(*items: tuple[str, str, str]) -> tuple[Rule, ...]:
    return tuple((LazyPattern(pattern), what, level) for pattern, what, level in items)


# In a Start's pattern, these stand for a class of bytes; every other character is itself.
START_CLASSES = {"\\d": b"0123456789", "\\l": b"abcdefghijklmnopqrstuvwxyz"}


@dataclass(frozen=True)
class Start:
    """How a family's lines start: a literal where \\d is a digit and \\l a lowercase letter; optionally the
    line must also end with one of ``ends`` and be shorter than ``shorter_than`` bytes."""
    pattern: str
    tracked: bool = True  # whether the model needs such lines parsed (else they are parsed when shown)
    ends: tuple[str, ...] = ()
    shorter_than: int = 0
    positions: tuple[bytes, ...] = field(init=False, repr=False, compare=False)  # bytes allowed at each place
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        places = re.findall(r"\\[dl]|.", self.pattern, re.S)
        positions = tuple(START_CLASSES.get(place, place.encode()) for place in places)
        regex = "".join(f"[{START_CLASSES[p].decode()}]" if p in START_CLASSES else re.escape(p) for p in places)
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "_regex", re.compile(regex))

    def matches(self, text: str) -> bool:
        if self.shorter_than and len(text) >= self.shorter_than or not self._regex.match(text):
            return False
        return not self.ends or text.rstrip("\r\n").endswith(self.ends)


@dataclass(frozen=True)
class Family:
    name: str  # the record's format
    side: str  # guest, host, vmm, kernel, app, loader
    rules: tuple[Rule, ...] = ()
    starts: tuple[Start, ...] = ()
    anywhere: tuple[bytes, ...] = ()
    markers: tuple[bytes, ...] = ()
    tracked: tuple[bytes, ...] = ()
    tracked_own: tuple[bytes, ...] = ()
    # Markers whose lines are tracked only when they also hold one of these words (a prefix most lines
    # of a program carry, its errors among them): (marker, words) pairs.
    tracked_if: tuple[tuple[bytes, tuple[bytes, ...]], ...] = ()
    glued: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    benign: frozenset[str] = field(default_factory=frozenset)
    # Programs whose lines are this family's, by the envelope's program (a syslog/journald/macOS program name
    # or an env_logger target; a prefix of it): a line of theirs no rule knows is still theirs, a "message".
    programs: tuple[str, ...] = ()
    searched: bool = True  # rules searched anywhere in a payload (recognise); False: the parser's own code
    # Words that name the family's component: a line holding one that none of the rules knows is still about
    # it, a "mention" (prose, a tool's listing: lsmod, lspci -k, a build log), at info level.
    mentions: tuple[str, ...] = ()
    # Its lines say the same whatever their handle values (traces repeat them with fresh pointers): the
    # parser parses each shape once (its starts are literals).
    shaped: bool = False
    # Its start is also an envelope other families' lines hide behind (a dmesg stamp on a serial console):
    # a line of it holding another family's literal goes to the parser, which peels the stamp.
    enveloping: bool = False

    # Whether a payload holds one of the markers: one regex search (None: no markers, every payload).
    marker_search: object = field(init=False, repr=False, compare=False)

    # Whether a line starts as one of the family's starts: one regex match where the starts are plain prefixes.
    starts_line: object = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        search = re.compile("|".join(re.escape(m.decode()) for m in self.markers)).search if self.markers else None
        object.__setattr__(self, "marker_search", search)
        if all(not start.ends and not start.shorter_than for start in self.starts):
            prefixes = re.compile("|".join(start._regex.pattern for start in self.starts)).match
            object.__setattr__(self, "starts_line", lambda text: prefixes(text) is not None)
        else:
            starts = self.starts

            def starts_line(text: str) -> bool:  # a plain loop: a generator per line costs more than the tests
                for start in starts:
                    if start.matches(text):
                        return True
                return False

            object.__setattr__(self, "starts_line", starts_line)



_HEX = r"0x[0-9a-fA-F]+"
# A Hypervisor.framework error named in a line (QEMU's and libkrun's): hv_vm_map failed: HV_BAD_ARGUMENT. Only
# hv_return_t's errors (the decoders' table, knowledge/codes.toml): HV_SUCCESS, HV_MEMORY_READ, … are no failure.
_HV_ERRORS = sorted({name for entry in decoders.tables()["hv"].entries.values() if entry.value
                     for name in (entry.name, *entry.aliases)})
_HV_RESULT = r"^(?P<message>.*?)\b(?P<name>" + "|".join(_HV_ERRORS) + r")\b"
# A Rust panic's first line, and where libkrun's crates live (src/CRATE/src/…: its panics, not crosvm's)
_PANIC_AT = r"thread '(?P<thread>[^']+)' panicked at "
_LIBKRUN_SOURCE = r"src/[\w-]+/src/"

# Mesa's Venus logger: MESA-VIRTIO: [level: ]message (logcat's brief style: MESA-VIRTIO( pid): …); the rules read
# the message. A tab line right after "vn_env is as below:" is one of its fields.
MESA = Family("mesa", "guest", _rules(
    (r"^vn_env is as below:$", "vn_env", "debug"),
    (r"^connected to renderer$", "connected", "debug"),
    (r"^wire format version (?P<guest>\d+) != (?P<host>\d+)$", "wire_format_mismatch", "error"),
    (r"^wire format version (?P<version>\d+)$", "wire_format", "debug"),
    (r"^vk xml version (?P<version>\S+) < (?P<required>\S+)$", "vk_xml_too_old", "error"),  # the renderer's is too old
    (r"^vk xml version (?P<version>\S+)$", "vk_xml_version", "debug"),
    (r"^VK_MESA_venus_protocol spec version (?P<version>\d+)$", "protocol_version", "debug"),
    (r"^renderer instance version (?P<version>\S+)$", "renderer_instance_version", "debug"),
    # (a line cut after "with", as mail wraps it, still says what the guest waits for)
    (r"^stuck in (?P<reason>.+?) wait with(?: iter at (?P<iter>\d+))?$", "stuck_wait", "warn"),
    (r"^aborting on ring fatal error(?: at iter (?P<iter>\d+)|(?: at(?: iter)?)?\s*)$", "ring_fatal", "error"),
    (r"^aborting on expired ring alive status(?: at iter (?P<iter>\d+)|(?: at(?: iter)?)?\s*)$", "ring_alive_expired",
     "error"),
    (r"^vn_ring_submit abort on fatal$", "ring_submit_fatal", "error"),
    (r"^aborting$", "abort", "error"),
    (r"^failed to connect to (?P<path>.+?): (?P<error>.+)$", "connect_failed", "error"),
    (r"^vtest protocol version \((?P<version>\d+)\) too old$", "vtest_too_old", "error"),
    (r"^no venus capset$", "no_capset", "error"),
    (r"^failed to allocate/map ring shmem", "ring_shmem_failed", "error"),
    (r"^no timeline support$", "no_timeline", "error"),
    (r"^lost connection to rendering server on (?P<fd>-?\d+) (?P<op>read|write) (?P<ret>-?\d+) (?P<errno>-?\d+)$",
     "lost_connection", "error"),
    (r"^(?P<fn>vn_\w+): (?P<result>VK_[A-Z0-9_]+)$", "result", "info"),
), starts=(Start("MESA-VIRTIO"), Start("\t")),
   # the vn_env block's masks behind an envelope (stamped lines do not start with its tab)
   tracked=(b"MESA-VIRTIO", b"vn_", b"\tdebug = ", b"\tperf = "), glued=("MESA-VIRTIO:", "MESA-VIRTIO("),
   # the tag alone (logcat's long style's header line, a grep on a prompt): named, but not the driver speaking
   searched=False, mentions=("MESA-VIRTIO",))

# The seed's [VKR] prints of the host's Vulkan calls (fields key=value); the model follows `calls`.
VKR = Family("vkr", "host", starts=(Start("[VKR]", tracked=False),), tracked=(b"[VKR]",), shaped=True,
             tracked_own=(b"ret=-", b"returned -", b"device=0x"), glued=("[VKR]",), searched=False,
             calls=("CreateFence", "DestroyFence", "ResetFences", "QueueSubmit", "GetFenceStatus", "WaitForFences",
                    "GetDeviceQueue", "CreateDevice"))

# virglrenderer's render server: vkr: message (several may share a line).
SERVER = Family("vkr-server", "host", _rules(
    (r"^(?P<fn>\w+): ring seqno\((?P<seqno>\d+)\) unable to reach wait seqno\((?P<wait>\d+)\)",
     "ring_seqno_unreachable", "error"),
    (r"cmd_size\((?P<size>\d+)\) > ring->buffer\.size\((?P<ring_size>\d+)\)", "ring_cmd_too_big", "error"),
    # (mail clients wrap these long lines: a line cut before its last words still says what failed)
    (r"^ring_submit_cmd: vn_dispatch_command(?: failed|\s*$)", "ring_dispatch_failed", "error"),
    (r"early bail due to fatal decoder state", "decoder_fatal", "error"),
    # Benign: every app that exits without freeing its objects (never above info).
    (r"^destroying context (?P<ctx>\d+) \((?P<name>.*)\) with a valid instance", "context_destroyed_live", "info"),
    (r"^destroying device with valid objects", "device_destroyed_live", "info"),
    # (the guest's dma-buf import asks the resource's properties first: the same unknown resource)
    (r"^failed to (?:import resource|query resource props): invalid(?: res_id (?P<id>\d+)|\s*$)", "import_failed",
     "error"),
    (r"^(?P<fn>\w+) resulted in CS error", "cs_error", "error"),
    (r"^submit_cmd: vn_dispatch_command(?: failed|\s*$)", "dispatch_failed", "error"),
    (r"^mem is not exportable", "mem_export_failed", "error"),
    (r"^mem cannot support mappable blob", "mem_export_failed", "error"),
    (r"^mem fd export failed \(vk ret (?P<ret>-?\d+)\)", "mem_export_failed", "error"),
    # the rest of vkr_device_memory_export_blob's reasons (dma-buf, udmabuf and gbm export paths, a second export)
    (r"^mem dma_buf_size (?P<dma_buf_size>\d+) < blob_size (?P<blob_size>\d+)", "mem_export_failed", "error"),
    (r"^mem (?P<reason>(?:cannot|has been|udmabuf|gbm|dma_buf|is not)\b.*)$", "mem_export_failed", "error"),
    (r"^failed to open udmabuf device: (?P<error>.*)", "udmabuf_failed", "error"),
    (r"^sync submit hit device lost for fence_id (?P<fence_id>\d+)", "sync_device_lost", "error"),
    (r"^sync submit failed \(vk ret (?P<ret>-?\d+)\) for fence_id (?P<fence_id>\d+)", "sync_submit_failed", "error"),
    (r"^object (?P<id>\d+) has type (?P<actual>\S+), not (?P<expected>\S+)", "object_type_mismatch", "error"),
    (r"^failed to look up object (?P<id>\d+) of type (?P<type>\S+)", "object_lookup_failed", "error"),
    (r"^invalid object id (?P<id>\d+)", "invalid_object_id", "error"),
    (r"^Validation (?P<severity>Error|Warning|Information|Performance Warning): (?P<body>.*)", "validation", "warn"),
    (r"^calling vkMapMemory", "map_memory_call", "debug"),
    (r"^vkMapMemory succe\w*: (?P<ptr>\S+)", "map_memory_ok", "debug"),
    (r"^vkMapMemory failed", "map_memory_failed", "error"),
    # a debug build's dispatch log: a call's VkResult (negative: an error)
    (r"^(?P<fn>vk\w+) returned (?P<ret>-?\d+)$", "call_result", "info"),
), starts=(Start("vkr: "),), anywhere=(b"vkr: ",), glued=("vkr: ",), searched=False)

# The vtest server (virgl_test_server) and its render-server proxy.
VTEST = Family("vtest", "host", _rules(
    (r"^(?P<caller>\w+) called (?P<callee>\w+) which failed \((?P<ret>-?\d+)\)$", "call_failed", "error"),
    (r"^client: (?P<status>VTEST_CLIENT_DISCONNECTED)$", "client_status", "info"),
    (r"^client: (?P<status>VTEST_CLIENT_\w+)$", "client_status", "error"),
    (r"^(?P<fn>\w+): client context created\.$", "context_created", "info"),
    (r"SIGSEGV!", "segv", "error"),
    (r"^proxy: failed to exec (?P<path>\S+): (?P<error>.*)$", "exec_failed", "error"),
    # util.c's report_failure: "vtest_receive_fd recvmsg failed (-22)"
    (r"^(?P<caller>vtest_\w+) (?P<callee>\w+) failed \((?P<ret>-?\d+)\)$", "call_failed", "error"),
    # report_failed_call with a reason for a callee (vtest_lazy_init_context called protocol version too low …)
    (r"^(?P<caller>\w+) called (?P<reason>.+?) which failed \((?P<ret>-?\d+)\)$", "failure", "error"),
    # report_failure with a reason in words: vtest_send_fd Failed to send fd (-22)
    (r"^(?P<caller>vtest_\w+) (?P<reason>.+?) \((?P<ret>-?\d+)\)$", "failure", "error"),
    (r"^client failed: (?P<status>VTEST_CLIENT_\w+)$", "client_status", "error"),
    # an old guest Mesa, or one without shared memory: vtest speaks protocol version 0 to it
    (r"^(?P<reason>.+?), fallbacking to protocol version (?P<version>\d+)", "protocol_fallback", "warn"),
    (r"^Unable to open rendernode '(?P<node>[^']*)' falling back", "rendernode_fallback", "warn"),
    (r"^failed to initialise renderer", "renderer_init_failed", "error"),
    # the server's own socket and client handling, as perror() prints it (another server holding the socket: EADDRINUSE)
    # (its messages end in "." or "!" before perror's colon: another server's "Failed to accept socket: …" is not it)
    (r"^Failed to (?P<step>setup socket|accept socket|add client|select on socket)[.!]: (?P<error>.*)$",
     "server_failed", "error"),
), starts=(Start("vtest"), Start("client")),
   anywhere=(b"SIGSEGV!", b"proxy: failed to exec ", b"Unable to open rendernode '", b"failed to initialise renderer",
             b"fallbacking to protocol version", b"Failed to setup socket.:", b"Failed to accept socket.:",
             b"Failed to add client.:", b"Failed to select on socket!:"),
   searched=False)

# The dynamic linker, for the render server or a guest program that cannot load; and a shell, Go's exec or
# libvirt not finding a program at all: both say what is not installed.
LDSO = Family("ldso", "host", _rules(
    (r"^(?P<prog>\S+): (?P<lib>\S+): (?P<weak>weak )?version [`'](?P<version>[^']+)' not found \(required by (?P<by>.+)\)$",
     "version_not_found", "warn"),
    (r"^(?P<prog>\S+): error while loading shared libraries: (?P<error>(?P<lib>[^:\s]+): .*)$", "load_error", "error"),
    # a library older or newer than the program was built against (a render server beside another virglrenderer)
    (r"^(?P<prog>\S+): symbol lookup error: (?P<lib>[^:]+): undefined symbol: (?P<symbol>\S+)", "symbol_lookup_error",
     "error"),
    # macOS's dyld (krunkit, QEMU, the render server from Homebrew: a library its build linked that is not there), its
    # program and pid peeled as an envelope (dyld[26302]: ) or older macOS's "dyld: " in front
    (r"^(?:dyld: )?Library not loaded: (?P<lib>\S+)", "load_error", "error"),
    (r"^(?:dyld: )?Symbol not found: (?P<symbol>\S+)", "symbol_lookup_error", "error"),
    (r"^Referenced from: (?:<[0-9A-Fa-f-]+> )?(?P<by>.*\S)\s*$", "referenced_from", "info"),
    (r"^(?:Reason|Expected in): (?P<message>.*\S)\s*$", "load_detail", "info"),
    # a program that is not installed or not on PATH, in a shell's, Go's exec and libvirt's words
    (r"^(?:-?(?:ba|z|da|fi|k|tc|c)?sh|sudo|doas|(?:\S*/)?[\w.\-]+\.(?:sh|bash)|/\S*/\w*sh)(?::(?: line)? \d+)?: "
     r"(?P<program>[^\s:]{1,200}): (?:command )?not found$", "program_missing", "error"),
    (r"^(?:/usr)?/bin/env: [`'‘]?(?P<program>[^\s'’]{1,200})['’]?: No such file or directory$", "program_missing", "error"),
    # podman's search of its helper directories (the krunkit or vfkit it starts)
    (r"could not find \"(?P<program>[^\"]{1,200})\" in one of \[", "program_missing", "error"),
    (r"(?:^|\s)-?(?:z|fi)sh: (?:command not found|[Uu]nknown command):? '?(?P<program>[^\s']{1,200})'?$",
     "program_missing", "error"),
    (r"exec: \\?\"(?P<program>[^\"\\]{1,200})\\?\": executable file not found in \$PATH", "program_missing", "error"),
    (r"Cannot find '(?P<program>[^']{1,200})' in path", "program_missing", "error"),
), anywhere=(b"' not found (required by ", b"error while loading shared libraries", b": symbol lookup error: ",
             b"Library not loaded: ", b"Symbol not found: ", b"Referenced from: ", b"Reason: tried: ", b"Expected in: ",
             b"command not found", b": not found", b"executable file not found", b"' in path", b"Unknown command: ",
             b"bin/env: ", b"could not find \""),
   programs=("dyld",), searched=False)

# MoltenVK: [mvk-level] message; errors and warnings are followed.
MVK = Family("mvk", "host", starts=(Start("[mvk-e"), Start("[mvk-w"), Start("[mvk-", tracked=False)),
             tracked=(b"[mvk-",), glued=("[mvk-",), searched=False, shaped=True)

FENCETEST_RULES = _rules(
    (r"^\[fencetest\] (?P<call>vk\w+)\((?P<args>[^)]*)\)\s*-> (?P<ret>-?\d+) \(t=(?P<t>[\d.]+)s\)", "call", "info"),
    (r"^\[fencetest\] poll (?P<n>\d+) (?P<call>vk\w+) -> (?P<ret>-?\d+)", "poll", "debug"),
    (r"^\[fencetest\] (?P<call>vkWaitForFences)\((?P<args>[^)]*)\) -> (?P<ret>-?\d+)", "call", "info"),
    (r"^\[fencetest\] got queue (?P<queue>" + _HEX + r")", "queue", "info"),
    (r"^\[fencetest\] GPU(?P<index>\d+): (?P<device>.+?) \(api(?: (?P<api>[\d.]+), driver (?P<driver_version>"
     + _HEX + r"), type (?P<type>\d+))?", "device", "info"),
    (r"^\[fencetest\] RESULT: (?P<result>\w+)", "result", "info"),
    (r"^\[fencetest\] (?P<message>.*)$", "message", "info"),
)
# A test program's steps: numbered (3. Device: FAILED -3), progress (alloc ok), the seed's extras, and the
# [fencetest] guest program of the QEMU lab.
STEP = Family("step", "guest", FENCETEST_RULES + _rules(
    (r"^-> crash: \"(?P<message>.*)\"$", "crash", "error"),
    (r"^polls until signaled (?P<polls>\d+) in (?P<ms>[\d.]+) ms$", "polls_until_signaled", "info"),
    (r"^signaled-fence status polls/s: (?P<rate>\d+)$", "poll_rate", "info"),
), starts=(Start("\\d."), Start("\\d\\d."), Start("\\l", ends=(" ok", " OK", "failed", "FAILED"), shorter_than=60)),
   anywhere=(b"-> crash: ", b"polls until signaled ", b"status polls/s: "), markers=(b"[fencetest]",),
   tracked=(b"[fencetest]",), glued=("[fencetest]",))
FENCETEST_KINDS = frozenset(what for _, what, _ in FENCETEST_RULES)
# The sides whose programs print steps ("3. Device: FAILED -3", "submit ok"): a VMM's, a host's or the kernel's
# line that looks like one ([WARN  hvf] map_memory failed) is that program's message, and so is a line a logger
# tags with its source file (glog, Chromium, crosvm: virtio_gpu.cc).
STEP_SIDES = frozenset({"guest", "app"})
_SOURCE_FILE = re.compile(r"\.(?:c|cc|cpp|cxx|h|hpp|m|mm|rs|go)$")


def prints_steps(program: str | None) -> bool:
    """Whether the program an envelope names may print a guest program's steps (None: no program named)."""
    if program is None:
        return True
    if _SOURCE_FILE.search(program):
        return False
    family = family_of_program(program)
    return family is None or family.side in STEP_SIDES


# the program's name in its error_report() lines (vhost-user-gpu: QEMU's GPU device in a process of its own)
# (UTM runs QEMU as a library named qemu-aarch64-softmmu)
_QEMU = r"(?:qemu-system-\S+|qemu-kvm|qemu-\w+-softmmu|vhost-user-gpu)"
# What QEMU's error_report()/error_setg() say when something fails ("venus requires enabled blob and hostmem
# options", "old virglrenderer, venus unsupported", "need udmabuf or rutabaga for blob resources"); the fast
# path's words for QEMU's lines (tracked_if) are the same.
_QEMU_FAIL_WORDS = ("rror", "ail", "annot", "nvalid", "not found", "equires", "upported", "ompatible", "not present",
                    "not a valid", "does not have", "need ", "ould not", "No ", "nhandled", "nrecognized", "nknown",
                    "not support", "n't support", "only be used", "mismatch", "not implement", "permitted",
                    "not available")
_QEMU_FAILS = "|".join(map(re.escape, _QEMU_FAIL_WORDS))
# What QEMU's virtio-gpu checks say when a guest's command breaks them (qemu_log_mask(LOG_GUEST_ERROR, …)).
_QEMU_GUEST_ERROR_WORDS = ("rror", "ail", "nvalid", "too big", "llegal", "nknown", "already exists", "out of range",
                           "not found", "no such", "cannot", "overflow")
# QEMU's words when the host cannot give it KVM or a GL display, or lacks a device: no VM or no virgl at all
_QEMU_HOST_SETUP = (b"KVM kernel module", b"initialize kvm", b"initialize KVM", b"KVM_CREATE_VM", b"KVM not supported",
                    b"KVM is not supported", b"opengl is not available", b"opengl not available",
                    b"OpenGL is not supported", b"OpenGL support is disabled", b"egl: ", b"EGL render node",
                    b"qemu_egl_init_dpy", b"qemu_gl_create_compile_shader", b"is not a valid device model",
                    b"does not have OpenGL support", b"OpenGL support was disabled")
QEMU = Family("qemu", "vmm", markers=(b"qemu-system-", b"qemu-kvm", b"-softmmu: ", b"virgl_cmd_", b"virtio_gpu_",
                                      b"-sandbox ") + _QEMU_HOST_SETUP + (
                                      b"virtio-gpu", b"HV_", b"kvm run failed", b"vhost-user-gpu: ", b"kvm: -",
                                      b"QEMU exited ", b"gl_version ", b"Render server", b"venus renderer",
                                      b"support was not enabled in virglrenderer", b"virgl could not",
                                      b"Gdk-WARNING", b"stats: vq req", b"-display ", b"OpenGL support enabled"),
              rules=_rules(
    # (through qemu_log_mask(), bare, or with the program's prefix; vg_: the same from QEMU's vhost-user-gpu, a
    # separate process logging through GLib)
    (r"^(?:" + _QEMU + r": )?(?:virtio_gpu|vg)_virgl_process_cmd: ctrl (?P<ctrl>" + _HEX + r"), error (?P<error>" + _HEX
     + r")", "cmd_error", "error"),
    (r"^virtio_gpu_fence_ctrl fence (?P<fence>" + _HEX + r"), type (?P<type>" + _HEX + r")", "fence_ctrl", "debug"),
    (r"^virtio_gpu_fence_resp fence (?P<fence>" + _HEX + r")", "fence_resp", "debug"),
    # -d guest_errors: a function's name and a colon (trace events have their arguments after a space)
    (r"^(?P<fn>virtio_gpu_\w+|virgl_cmd_\w+|vg_\w+): (?P<message>.*)$", "guest_error", "error"),
    # trace events: the device's, and the HVF accelerator's (hvf_vm_map paddr:… size:…)
    (r"^(?P<event>(?:virtio_gpu|hvf)_\w+)(?![^\s])(?P<args>.*)$", "trace", "debug"),
    (r"Error: ret = (?P<name>HV_\w+) \((?P<code>" + _HEX + r"), at (?P<where>[^)]+)\)", "hvf_error", "error"),
    (r"^(?:" + _QEMU + r": )?kvm run failed (?P<error>.*)$", "kvm_run_failed", "error"),
    # QEMU's own assert() (glibc's words after QEMU's prefix): the VMM aborts
    (r"^(?:" + _QEMU + r": )?(?P<file>[^:\s]{1,300}):(?P<line>\d+): (?P<function>\w+): Assertion [`'](?P<expression>.{0,1000})' "
     r"failed\.", "assertion", "error"),
    # no KVM for the VMM (accel/kvm's own words, bare or behind QEMU's prefix and its -accel option): no module,
    # no permission on /dev/kvm, another hypervisor holding VT-x
    (r"(?P<message>(?:Could not access KVM kernel module|failed to initialize (?:kvm|KVM)|ioctl\(KVM_CREATE_VM\) failed): "
     r"(?P<error>.*))$", "kvm_unavailable", "error"),
    (r"(?P<message>KVM (?:is )?not supported (?:for|on) .*)$", "kvm_unavailable", "error"),
    # the display's GL that QEMU could not set up: a display without GL for a GL device, its EGL (ui/egl-helpers.c:
    # "egl: …" with or without the option it came from), SPICE's render node, its shaders on a host GL too old for them
    (r"(?P<message>opengl (?:is )?not available|OpenGL is not supported by (?:the )?display(?: backend '[^']*')?|"
     r"OpenGL support (?:is|was) disabled(?: when QEMU was compiled)?|"
     r"The display backend does not have OpenGL support enabled)", "no_gl_display", "error"),
    (r"^(?:" + _QEMU + r": )?(?:-[a-z][\w-]*[^:]{0,300}: )?egl: (?P<message>.*)$", "egl_failed", "error"),
    (r"(?P<message>Failed to initialize EGL render node for SPICE GL|qemu_egl_init_dpy\w* failed.*)$", "egl_failed",
     "error"),
    (r"^(?P<message>qemu_gl_create_compile_shader: compile (?P<stage>\w+) error)", "shader_failed", "error"),
    # a QEMU without the device asked for (the GL devices live in a module a distribution packages apart)
    (r"'(?P<device>[\w.-]{1,100})' is not a valid device model name", "device_missing", "error"),
    # a virglrenderer built without the render server: QEMU cannot serve Venus, and says only this
    (r"Render server support was not enabled in virglrenderer", "no_render_server", "error"),
    # the other renderers such a virglrenderer lacks (its stubs say so when QEMU asks for one): Vulkan is Venus
    (r"(?P<feature>Vulkan|DRM native context|OpenCL) support was not enabled in virglrenderer", "virgl_built_without",
     "error"),
    (r"failed to initialize venus renderer", "venus_init_failed", "error"),
    (r"virgl could not be initialized: (?P<ret>-?\d+)", "virgl_init_failed", "error"),
    # a QEMU without the device property asked for (context_init, blob, venus, hostmem…)
    (r"Property '(?P<property>[\w.\-]+)' not found", "property_not_found", "error"),
    (r"Gdk-WARNING \*\*: [\d:.]+: (?P<message>.*)$", "display_warning", "warn"),
    # Hypervisor.framework results in other shapes (hv_vm_map failed: HV_BAD_ARGUMENT; QEMU's older assert_hvf_ok:
    # "qemu-system-aarch64: Error: HV_DENIED"), before QEMU's prefixed lines so that the result is read
    (_HV_RESULT, "hvf_error", "error"),
    (r"^(?:" + _QEMU + r"|kvm): (?:-[a-z][\w-]*[^:]{0,300}: )?warning: (?P<message>.*)$", "warning", "warn"),
    (r"^(?:" + _QEMU + r"|kvm): (?:-[a-z][\w-]*[^:]{0,300}: )?info: (?P<message>.*)$", "message", "info"),
    # Proxmox VE runs QEMU as "kvm": an option it could not apply, and the task's own words for QEMU's exit
    (r"^kvm: (?P<message>-[a-z][\w-]* .*)$", "error", "error"),
    (r"QEMU exited with code (?P<code>\d+)", "vmm_exited", "error"),
    # UTM's alert when its QEMU stops (Error Domain=com.utmapp.UTM … "QEMU exited from an error: <QEMU's words>")
    (r"QEMU exited from an error: (?P<message>[^\"]*)", "vmm_exited", "error"),
    # QEMU's error_report(): what fails says "error" or "fail" (the words the fast path looks for in QEMU's
    # lines, tracked_if below); its other prefixed lines (a build's own prints) are info
    (r"^" + _QEMU + r": (?P<message>.*(?:" + _QEMU_FAILS + r").*)$", "error", "error"),
    (r"^" + _QEMU + r": (?P<message>.*)$", "message", "info"),
    # the same, once an envelope has named the program (journald: qemu-system-x86_64[99]: warning: …)
    (r"^warning: (?P<message>.*)$", "warning", "warn"),
    (r"^(?P<message>(?:[Ee]rror|[Ff]ailed|[Cc]annot|[Uu]nable|[Ii]nvalid)\b.*)$", "error", "error"),
    (r"^gl_version (?P<version>\d+) - (?P<profile>.*)$", "gl_version", "info"),
    (r"^stats: vq req\s+(?P<requests>\d+),\s+(?P<queue>\d+) -- 3D\s+(?P<cmds>\d+)", "stats", "info"),
    (r"(?P<message>The display backend does not have OpenGL support enabled)", "no_gl_display", "error"),
    # error_append_hint() after "The display backend does not have OpenGL support enabled"
    (r"^(?P<message>It can be enabled with '-display .*)$", "hint", "info"),
    # a pasted QEMU command line, one option a line: -device virtio-gpu-gl,blob=true,venus=true,hostmem=4G \\
    (r"^-(?P<option>[a-z][\w-]*)\s+(?P<value>(?:.*[^\s\\])?)(?:\s*\\)?\s*$", "option", "info"),
    # or whole (a wrapper's log, a pasted command without its prompt): [sudo] qemu-system-aarch64 -M virt -device …
    (r"^(?:(?:sudo|doas|exec|env|nice|nohup|time|[A-Z_][A-Z0-9_]*=\S*)\s+){0,8}(?:\S*/)?"
     r"(?P<program>qemu-system-[\w.\-]+|qemu-kvm)(?:\s+(?P<arguments>-(?:.*[^\s\\])?))?(?:\s*\\)?\s*$", "command_line",
     "info"),
), benign=frozenset({"gl_version", "trace", "fence_ctrl", "fence_resp", "option", "stats", "hint", "command_line"}),
   programs=("qemu-system-", "qemu-kvm", "qemu", "vhost-user-gpu"),
   # the fence trace events too: whether the host answers every fence is evidence (only on when traced)
   tracked=(b"HV_", b"kvm run failed", b"virtio_gpu_virgl_process_cmd", b"Render server", b"kvm: -", b"gl_version ",
            b"spawn=deny") + _QEMU_HOST_SETUP + (
            b"QEMU exited ",
            b"support was not enabled in virglrenderer", b"venus renderer",
            b"virgl could not", b"virtio_gpu_fence_", b"virgl_cmd_", b"OpenGL support enabled"),
   # qemu-system-*, qemu-kvm: prefixed lines, also glued after a wrapper's own words (libvirt: "qemu unexpectedly
   # closed the monitor: <stamp> qemu-kvm: …")
   glued=("qemu-system-", "qemu-kvm: ", "virtio_gpu_virgl_process_cmd: ", "vg_virgl_process_cmd: "),
   tracked_if=((b"qemu-", (b"arning",) + tuple(word.encode() for word in _QEMU_FAIL_WORDS)),
               (b"vhost-user-gpu: ", (b"arning",) + tuple(word.encode() for word in _QEMU_FAIL_WORDS)),
               (b"(vhost-user-gpu:", (b"CRITICAL", b"WARNING", b"ERROR")),
               # -d guest_errors (virtio_gpu_create_mapping_iov: nr_entries is too big …), not the trace events
               (b"virtio_gpu_", tuple(word.encode() for word in _QEMU_GUEST_ERROR_WORDS))))

# rutabaga's GPU worker answering a command with an error: crosvm's, and libkrun's (its GPU device is crosvm's, ported)
_COMMAND_ERROR = r"Some\((?P<command>\w+)\) -> (?P<result>Err\w+(?:\(.*\))?)$"

KRUN = Family("krun", "vmm", markers=(b"hvf]", b"krun", b"map_memory", b"vstate]", b"panicked at", b"muvm", b"smolvm",
                                     b"Kvm object"),
              rules=_rules(
    (r"^map_memory: err (?P<err>-?\d+)", "hvf_map_error", "error"),
    (r"^map_memory: host_start_addr=(?P<host>" + _HEX + r"), guest_start_addr=(?P<guest>" + _HEX + r"), "
     r"size=(?P<size>" + _HEX + r")", "hvf_map", "info"),
    (r"^Error adding memory map: (?P<error>.*)$", "memory_map_error", "error"),
    (r"^Building the microVM failed: (?P<error>.*)$", "vm_build_failed", "error"),
    # the VMM process dying under its front end (podman: Error: krunkit exited unexpectedly with exit code 2)
    (r"\b(?P<vmm>krunkit|libkrun|muvm|smolvm) exited unexpectedly with exit code (?P<exit_code>-?\d+)", "vmm_exited",
     "error"),
    # libkrun (or a library it needs) not loadable where a front end loads it at run time (smolvm: … load libkrun:
    # failed to load …/libkrun.so: libvirglrenderer.so.1: cannot open shared object file: …)
    (r"^Error: (?P<message>.{0,400}?(?<!\S)(?P<lib>[^\s:]+\.(?:so|dylib)[\w.]*): cannot open shared object file: "
     r"(?P<error>.*))$", "library_missing", "error"),
    # a front end's own error naming krun (podman: Error: unable to begin running krun workload)
    (r"^Error: (?P<message>.*)$", "error", "error"),
    (r"^Failure during vcpu run: (?P<error>.*?)(?: \(os error (?P<errno>\d+)\))?$", "vcpu_run_failed", "error"),
    # libkrun's VMM without KVM (Error(2): no /dev/kvm, an LXC container without the device; 13: no permission)
    (r"(?P<message>Error creating the Kvm object: (?P<error>.*))$", "kvm_unavailable", "error"),
    (r"^Unexpected exit reason on vcpu run: (?P<reason>.*)$", "vcpu_exit_unexpected", "error"),
    # libkrun's C API failing, as a front end prints it: krun_create_ctx failed: -1
    (r"^(?P<fn>krun_\w+)(?:\(\))?:? failed(?::? (?P<ret>-?\d+))?", "api_failed", "error"),
    # Hypervisor.framework results inside libkrun's own lines ([ERROR hvf] … HV_BAD_ARGUMENT), not QEMU's
    (_HV_RESULT, "hvf_error", "error"),
    (_COMMAND_ERROR, "command_error", "error"),
    # a panic in one of libkrun's crates (src/devices/src/virtio/gpu/virtio_gpu.rs: the GPU worker)
    (_PANIC_AT + r"(?P<where>" + _LIBKRUN_SOURCE + r"\S+?)(?::\d+)*:?$", "panic", "error"),
    (_PANIC_AT + r"'(?P<message>.*)', (?P<where>" + _LIBKRUN_SOURCE + r"\S+?)(?::\d+)*$", "panic", "error"),
    # a guest driver resetting a virtio device it still uses (every krunkit boot: harmless, its maintainers say)
    (r"^reset device while it's still in active state", "device_reset_active", "warn"),
    (r"^mapping: host_addr=(?P<host>(?:0x)?[0-9a-fA-F]+), addr=(?P<guest>(?:0x)?[0-9a-fA-F]+), size=(?P<size>\d+)",
     "gpu_mapping", "debug"),
    # a blob that does not fit in the GPU's shared-memory window (macOS's wording, then Linux's), or fails to map there
    (r"^(?P<message>mapping DOES NOT FIT|resource map doesn't fit in shm region)", "shm_window_full", "error"),
    (r"^(?P<message>failed to mmap resource in shm region.*)$", "shm_map_failed", "error"),
    # the library with the guest kernel (libkrunfw) missing or of another version: no VM at all
    (r"^(?P<message>(?:Can't load libkrunfw|Couldn't find or load libkrunfw|Unsupported libkrunfw version).*)$",
     "libkrunfw_failed", "error"),
    # the VMM's own prefixed lines (krunkit: error: …), as bad as they say
    (r"^(?P<prog>(?:lib)?krun\w*|muvm|smolvm)(?:\[\d+\])?: (?P<message>.*(?:rror|ail|annot|nable).*)$", "error", "error"),
    (r"^(?P<prog>(?:lib)?krun\w*|muvm|smolvm)(?:\[\d+\])?: (?P<message>.*)$", "message", "info"),
), benign=frozenset({"device_reset_active"}), mentions=("krun", "hvf]"),
   programs=("hvf", "krun", "libkrun", "vmm", "devices", "utils", "polly", "muvm", "krunkit", "smolvm"),
   # libkrun's own errors and warnings, not its debug chatter (a krunkit log is mostly that)
   tracked=(b"hvf]", b"vstate]", b"Kvm object"),
   tracked_if=((b"krun", (b"ERROR", b"WARN", b"rror", b"ail", b"an't", b"ouldn't", b"nsupported")),
               (b"muvm", (b"rror", b"ail")), (b"smolvm", (b"rror", b"ail")),
               # its crates' targets (env_logger, tracing) at warn or error
               (b"devices::", (b"ERROR", b"WARN")), (b"vmm::", (b"ERROR", b"WARN"))))

# The guest OS's init (systemd) on a console: [  OK  ] Started …, [FAILED] Failed to start …. Before the
# kernel's family: its bracket is not a dmesg stamp.
SYSTEMD = Family("systemd", "kernel", starts=tuple(Start(s, tracked=s == "[FAILED]") for s in (
    "[  OK  ]", "[FAILED]", "[DEPEND]", "[ TIME ]", "[ INFO ]", "[ WARN ]")), rules=_rules(
    (r"^\[(?P<status>FAILED)\] (?P<message>.*)$", "unit_status", "error"),
    (r"^\[\s*(?P<status>OK|DEPEND|TIME|INFO|WARN)\s*\] (?P<message>.*)$", "unit_status", "info"),
    # systemd-coredump: Process 1416300 (.qemu-system-x8) of user 1000 dumped core.
    (r"^Process (?P<pid>\d+) \((?P<prog>[^)]+)\) of user \d+ (?:dumped core|terminated abnormally)", "coredump", "error"),
), searched=False, programs=("systemd-coredump",))

# crosvm (ChromeOS's VMM) and rutabaga, its GPU device library (also in libkrun/muvm): map and command errors,
# and a GPU device that could not start.
CROSVM = Family("crosvm", "vmm", markers=(b"rutabaga", b"Rutabaga", b"register_memory", b"RegisterMemory",
                                          b"virtio/gpu", b"virtio::gpu", b") -> Err", b"panicked at", b"gpu command",
                                          b"Failed to map blob", b"Result::unwrap()"), rules=_rules(
    (r"register_memory:SystemCallFailed: (?P<error>.*?)(?: \(os error (?P<errno>\d+)\))?$", "map_failed", "error"),
    (r"RegisterMemory failed base: Error\((?P<errno>\d+)\)", "map_failed", "error"),
    (_COMMAND_ERROR, "command_error", "error"),
    (r"error processing gpu command (?P<command>\w+): (?P<result>\S.*)$", "command_error", "error"),
    (r"Failed to map blob, resource id (?P<resource>\d+), offset (?P<offset>\d+), error: (?P<error>.*)$", "map_failed",
     "error"),
    (r"Rutabaga initialization failed!?:? ?(?P<error>.*)$", "rutabaga_init_failed", "error"),
    (r"failed to build rutabaga:? (?P<error>.*)$", "rutabaga_init_failed", "error"),
    # a panic's payload, the line after "thread '…' panicked at"
    (r"^called `Result::unwrap\(\)` on an `Err` value: (?P<error>.*)$", "panic_payload", "error"),
    # (libkrun's crates live in src/CRATE/src/: its panics are libkrun's)
    (_PANIC_AT + r"(?!" + _LIBKRUN_SOURCE + r")(?P<where>\S+?)(?::\d+)*:?$", "panic", "error"),
    # Rust before 1.73: the message first, then the place
    (_PANIC_AT + r"'(?P<message>.*)', (?!" + _LIBKRUN_SOURCE + r")(?P<where>\S+?)(?::\d+)*$", "panic", "error"),
    (r"^(?P<command>Resource\w+|Cmd\w+|Transfer\w+|Get\w+)$", "command", "debug"),
), benign=frozenset({"command"}), programs=("crosvm", "rutabaga", "vm_control"), mentions=("crosvm",),
   tracked=(b"register_memory", b"RegisterMemory", b"Rutabaga initialization", b") -> Err", b"panicked at",
            b"error processing gpu command", b"Failed to map blob", b"failed to build rutabaga", b"Result::unwrap()"))

# The kernel: dmesg lines ([ secs.usecs] or <N>), journald's "kernel: ", the guest's virtio_gpu and drm lines.
# A kernel call trace's frame: x86's "? fn+0x1/0x2 [module]", arm64's "pc : fn+…", ppc's "[c000…] [c000…] .fn+…",
# older kernels' "[<ffffffff…>] fn+…", syzbot's "fn+0x1/0x2 file.c:12" and "fn file.c:12 [inline]"
_FRAME_AT = r"^(?:\? |RIP: [0-9a-f]{4}:|pc : |lr : |(?:NIP|LR) \[[0-9a-f]+\] )?(?:\[<?[0-9a-fA-F]{8,16}>?\]\s*){0,2}\.?"
_FRAME_OFFSET = (r"\+0x[0-9a-fA-F]+/0x[0-9a-fA-F]+(?:\s+\[(?P<module>\w+)\])?"
                 r"(?:\s+(?P<file>\S{1,300}?):(?P<line>\d+))?")
_FRAME_INLINE = r" (?P<file>\S{1,300}\.[chS]):(?P<line>\d+) \[inline\]"
_KERNEL_TROUBLE = (b"blocked for more than", b"BUG: ", b"Oops", b"general protection fault", b"Kernel panic",
                   b"Unable to handle kernel", b"WARNING: CPU: ", b"unreferenced object", b"kernel BUG at",
                   b"Killed process", b" state:")
KERNEL = Family("kernel", "kernel", markers=(b"[drm", b"virtio_gpu", b"virtio-gpu", b"probe ", b"segfault at",
                                          b"callbacks suppressed", b" (command 0x",
                                          b"NVRM: Xid", b"+0x", b" [inline]", b"Call Trace:", b"[ end trace")
                + _KERNEL_TROUBLE, rules=_rules(
    (r"\[drm:(?P<fn>\w+)(?: \[virtio_gpu\])?\] \*ERROR\* response (?P<response>" + _HEX + r") \(command (?P<command>"
     + _HEX + r")\)", "response_error", "error"),
    (r"\[drm:(?P<fn>\w+)(?: \[\w+\])?\] \*ERROR\* (?P<message>.*)$", "drm_error", "error"),
    # printk_ratelimited's count of the messages it dropped: virtio-gpu's are the host's error responses
    (r"^(?P<fn>virtio_gpu_\w+): (?P<count>\d+) callbacks suppressed", "gpu_errors_suppressed", "warn"),
    (r"^(?P<fn>\w+): (?P<count>\d+) callbacks suppressed", "ratelimited", "info"),
    (r"\[drm\] features: (?P<features>(?:.*\S)?)\s*$", "features", "info"),
    # older kernels' words for +virgl/-virgl: whether the host gave the device 3D at all
    (r"\[drm\] virgl 3d acceleration (?P<state>enabled|not supported by host)", "virgl_3d", "info"),
    (r"\[drm\] number of cap sets: (?P<count>\d+)", "capset_count", "info"),
    (r"\[drm\] cap set (?P<index>\d+): id (?P<id>\d+), max-version (?P<version>\d+), max-size (?P<size>\d+)",
     "capset", "info"),
    (r"\[drm\] Host memory window: (?P<base>" + _HEX + r") \+(?P<size>" + _HEX + r")", "hostmem", "info"),
    (r"\[drm\] pci: virtio-gpu-pci detected at (?P<where>\S+)", "detected", "info"),
    (r"\[drm\] Initialized virtio_gpu (?P<version>\S+)", "initialized", "info"),
    # drm_err() with the device in front (virtio_gpu virtio0: [drm] *ERROR* response …): the same answer
    (r"\[drm\] \*ERROR\* response (?P<response>" + _HEX + r") \(command (?P<command>" + _HEX + r")\)",
     "response_error", "error"),
    (r"\[drm\] \*ERROR\* (?P<message>.*)$", "drm_error", "error"),
    # the same answer's second half, where a mail client wrapped the line after "*ERROR*" or "*ERROR* response"
    (r"^(?:response )?(?P<response>0x1[0-9a-fA-F]{3}) \(command (?P<command>0x[0-9a-fA-F]{3,4})\)\s*$", "response_error",
     "error"),
    (r"\[drm\] (?P<message>.*)$", "drm", "info"),
    # a process killed by a fault: the render server, the VMM (qemu-system-x8[1416308]: segfault at 0 ip …)
    (r"(?<!\S)(?P<prog>[^\s\[]+)\[(?P<pid>\d+)\]: segfault at (?P<address>[0-9a-fA-Fx]+)", "segfault", "error"),
    # the host's NVIDIA driver reporting a GPU fault, with the process and thread that hit it (vkr-ring-1: the
    # render server's ring thread)
    (r"NVRM: Xid \((?P<device>[^)]{0,100})\): (?P<xid>\d+), pid=(?P<pid>[^,]{0,100}), name=(?P<thread>[^,]{0,200})",
     "nvidia_xid", "error"),
    # the driver failed to bind the device (older kernels: "virtio_gpu: probe of virtio0 failed with error -16")
    (r"probe (?:of (?P<device>\S+) )?(?:with driver (?P<driver>\S+) )?failed with error (?P<err>-?\d+)", "probe_failed",
     "error"),
    # the kernel in trouble: a task stuck in the driver (a guest waiting on a host that never answers), an oops,
    # a WARN_ON, a leak; then its call trace's frames (x86's, arm64's, ppc's; syzbot's with their source lines)
    (r"INFO: task (?P<task>.{1,64}?):(?P<pid>\d+) blocked for more than (?P<seconds>\d+) seconds", "hung_task", "error"),
    # (an oops and a general protection fault carry their count, [#1]; BUG: only the kernel's own words: a commit
    # title "BUG: fix …" is none)
    (r"^(?:watchdog: )?(?P<message>(?:(?:Oops\b|general protection fault|Internal error: Oops)(?=.{0,200}\[#\d+\])|"
     r"BUG: (?:[Kk]ernel NULL pointer|[Uu]nable to handle|KASAN:|KFENCE:|KCSAN:|KMSAN:|UBSAN:|soft lockup|"
     r"workqueue lockup|Bad page|Bad rss|scheduling while atomic|sleeping function called|using smp_processor_id|"
     r"spinlock|kernel paging request|[Dd]entry|stack guard page|non-zero pgtables)|Unable to handle kernel |"
     r"Kernel panic - not syncing(?::? (?P<reason>\S.*))?|kernel BUG at ).*)$", "oops", "error"),
    (r"^WARNING: CPU: (?P<cpu>\d+) PID: (?P<pid>\d+) at (?P<where>\S+)", "kernel_warning", "warn"),
    # a task's header in a hung-task report or sysrq-w/-t's dump (state D: uninterruptible, waiting on something)
    (r"^task:(?P<task>\S.{0,63}?)\s+state:(?P<state>[A-Z])\b", "task_state", "info"),
    # the OOM killer ending a process (the VMM with a guest too large for the host, the render server)
    (r"(?:Out of memory|Memory cgroup out of memory): Killed process (?P<crashed_pid>\d+) \((?P<prog>[^)]{1,64})\)",
     "oom_killed", "error"),
    (r"^unreferenced object (?P<address>0x[0-9a-f]+) \(size (?P<size>\d+)\)", "kmemleak", "warn"),
    # (the driver's own frames a kind of their own: which driver a stuck task waits in is evidence, and a trace's
    # other frames would push them out of what the model keeps of a kind)
    (_FRAME_AT + r"(?P<function>(?:virtio_gpu|virtgpu)_\w{0,200})" + _FRAME_OFFSET, "virtio_gpu_frame", "info"),
    (_FRAME_AT + r"(?P<function>[A-Za-z_][\w.]{0,200})" + _FRAME_OFFSET, "frame", "info"),
    (_FRAME_AT + r"(?P<function>(?:virtio_gpu|virtgpu)_\w{0,200})" + _FRAME_INLINE, "virtio_gpu_frame", "info"),
    (_FRAME_AT + r"(?P<function>[A-Za-z_]\w{0,200})" + _FRAME_INLINE, "frame", "info"),
    (r"^Call Trace:", "call_trace", "info"),
    (r"^-+\[ end trace (?P<trace>[0-9a-f]+) \]-+", "end_trace", "info"),
    (r"^(?P<message>.*(?:virtio_gpu:|virtio_gpu virtio\d+:|\[virtio_gpu\]|virtio_gpudrmfb|virtio-gpu-pci detected).*)$",
     "virtio_gpu", "info"),
    # which driver a device is bound to (lspci -k) and the module's line in lsmod
    (r"Kernel driver in use: (?P<driver>\S+)", "driver_in_use", "info"),
    (r"^(?P<module>virtio_gpu|virtio_dma_buf|drm_\w+)\s+(?P<size>\d+)\s+(?P<used>\d+)", "module", "info"),
), mentions=("virtio_gpu", "[drm"), starts=(Start("[ ", tracked=False), Start("<\\d>", tracked=False))
   + tuple(Start("[" + "\\d" * digits + ".", tracked=False) for digits in range(1, 7)),  # [12345.678901]
   # the device's features, capsets, window and errors: the drm lines; the rest is parsed when shown
   # (a trace's frames too: which driver a stuck task waits in is evidence)
   anywhere=(b"kernel: ",),
   tracked=(b"[drm", b"segfault at", b"NVRM: Xid", b"+0x", b" [inline]", b"[ end trace", b"callbacks suppressed",
            b" (command 0x")
   + _KERNEL_TROUBLE,
   tracked_own=(b"*ERROR*", b"[drm", b"segfault at", b"NVRM: Xid", b"+0x", b" [inline]", b"[ end trace",
                b"callbacks suppressed") + _KERNEL_TROUBLE,
   glued=("[drm",),
   enveloping=True)

LOADER = Family("loader", "loader", markers=(b"Loader Message", b"Skipping ICD", b"XDG_RUNTIME_DIR", b"INCOMPATIBLE_DRIVER",
                                     b"virtgpu backend not", b"virtgpu AddressSpaceStream", b"get host connection",
                                     b"is not a conformant", b"dlopen failed", b": failed to initialize device",
                                     b"environment variable not set", b"in ICD ", b"for ICD ", b"wrong ELF class",
                                     b"vulkan hal", b"vulkan driver: "),
                rules=_rules(
    (r"Failed to CreateInstance in ICD (?P<icd>\d+)\.", "icd_skipped", "warn"),
    # a driver the loader loaded failing a call (newer loaders skip it and go on): the Venus ICD's enumeration
    # failing says it found no device to drive
    (r"Call to [\"'](?P<call>vk\w+)[\"'] in ICD (?P<library>\S+) failed with error code (?P<code>-?\d+)",
     "icd_call_failed", "warn"),
    (r"Could not get '(?P<call>\w+)' via '\w+' for ICD (?P<library>\S+)", "icd_unusable", "warn"),
    # a driver's library that will not load (a dependency missing: Android's linker says which), so its ICD is skipped
    (r"Failed loading library associated with ICD JSON (?P<manifest>\S+?)\.?(?:\s|$)", "icd_load_failed", "warn"),
    (r"dlopen failed: library \"(?P<missing>[^\"]{1,300})\" not found(?:: needed by (?P<library>\S+))?", "icd_load_failed",
     "warn"),
    # Android's loader (logcat tag "vulkan"): its one HAL, vulkan.<ro.hardware.vulkan>.so, missing or failing to open
    (r"failed to (?:load vulkan hal|open vulkan driver): (?P<error>[^()]{0,200}) \((?P<errno>-?\d+)\)", "hal_unavailable",
     "error"),
    (r"(?<![^\s:])(?P<library>[^\s:]{1,1000}): wrong ELF class: (?P<elf_class>ELFCLASS\d+)", "icd_wrong_bitness", "warn"),
    # no driver at all (a guest without a Vulkan ICD, or one whose ICDs all declined)
    (r"(?P<message>vkCreateInstance: Found no drivers!|Failed to detect any valid GPUs in the current config)",
     "no_drivers", "error"),
    (r"^(?P<severity>WARNING|ERROR|INFO|DEBUG): \[Loader Message\] Code (?P<code>\d+) : (?P<message>.*)$",
     "loader_message", "info"),
    (r"^(?:ERROR|WARNING): \[(?P<where>[^\]]+)\] Code (?P<code>\d+) : (?P<message>.*?)(?:\s*\((?P<result>VK_ERROR_\w+)\))?$",
     "driver_declined", "info"),
    # another driver failing to open its own kind of device (radv on a guest without its native context)
    (r"^(?P<where>radv|anv|nvk|tu|panvk|hk|v3dv|pvr)/\w+: failed to initialize device", "driver_declined", "info"),
    # another ICD declining in its own logger's words (turnip's TU: error: …, as mesa_log prints them)
    (r"^(?P<where>[A-Z]{2,8}): error: (?P<message>.*?)\s*\((?P<result>VK_ERROR_INCOMPATIBLE_DRIVER)\)$",
     "driver_declined", "info"),
    # its own log (VK_LOADER_DEBUG=driver or all): which manifests and libraries it found, and which driver each
    # device uses (newer loaders)
    (r"^Found ICD manifest file (?P<manifest>.+?), version \"?(?P<version>[\d.]+)\"?", "icd_manifest", "info"),
    (r"^Searching for ICD drivers named (?P<library>\S+)", "icd_library", "debug"),
    (r"^Using \"(?P<device>[^\"]+)\" with driver: \"(?P<library>[^\"]+)\"", "device_driver", "info"),
    (r"^Requested driver (?P<library>\S+) was wrong bit-type", "icd_wrong_bitness", "warn"),
    (r"^loader_get_json: Failed to open JSON file (?P<manifest>\S+)", "manifest_unreadable", "warn"),
    (r"^Vulkan Loader Version (?P<version>[\d.]+)", "loader_version", "info"),
    (r"XDG_RUNTIME_DIR is invalid or not set", "xdg_runtime_dir", "info"),
    # a driver saying it is not conformant (lavapipe under a render server, panvk): noise, whatever runs
    (r"^(?:WARNING: )?(?P<driver>\w+) is not a conformant [Vv]ulkan implementation", "not_conformant", "info"),
    (r"'DISPLAY' environment variable not set", "no_display", "info"),
    # Mesa's gfxstream ICD probing for its own host (an Android emulator's, crosvm's gfxstream) where there is none,
    # bare metal included: another driver declining, not Venus (Venus logs as MESA-VIRTIO)
    (r"(?P<message>virtgpu backend not enabling \w+|Failed to create virtgpu AddressSpaceStream|"
     r"vulkan: Failed to get host connection)", "gfxstream_declined", "info"),
), benign=frozenset({"driver_declined", "xdg_runtime_dir", "no_display", "loader_message", "not_conformant",
                     "gfxstream_declined"}),
   tracked=(b"Skipping ICD", b"in ICD ", b"Found no drivers!", b"vulkan hal", b"vulkan driver: ", b"dlopen failed",
            b"Failed loading library",
            b"Failed to detect any valid GPUs", b"wrong bit-type",
            # its own log's errors and warnings, by their tags or the padding after the level alone
            b"Failed to open JSON file", b"ERROR | ", b"WARNING | ", b"ERROR:      ", b"WARNING:    "),
   programs=("vulkan-loader",))

VULKANINFO = Family("vulkaninfo", "app", markers=(b"deviceName", b"driverID", b"driverInfo", b"driverName", b"apiVersion",
                                                 b"driverVersion", b"deviceType", b"Instance Version", b"Device Name",
                                                 b"GPU id = ", b"while creating surface", b"Cannot create Vulkan instance"),
                    rules=_rules(
    (r"^(?P<key>deviceName|driverID|driverName|driverInfo|apiVersion|driverVersion|deviceType|vendorID|deviceID)"
     r"\s*=\s*(?P<value>(?:.*\S)?)\s*$", "device_field", "info"),
    (r"^Device Name:\s+(?P<value>(?:.*\S)?)\s*$", "device_name", "info"),
    (r"^GPU id = (?P<index>\d+) \((?P<value>.*)\)\s*$", "device_listed", "info"),
    # vulkaninfo asking for a window surface where there is no display: noise, whatever the driver
    (r"ERROR while creating surface for extension (?P<extension>\w+)", "surface_unavailable", "info"),
    (r"^Vulkan Instance Version: (?P<version>\S+)", "instance_version", "info"),
    # vulkaninfo giving up (the loader's or the driver's reason comes on the lines around it)
    (r"^Cannot create Vulkan instance\.", "instance_failed", "error"),
    (r"^GPU(?P<index>\d+):$", "gpu", "info"),
), tracked=(b"deviceName", b"Device Name", b"GPU id = ", b"Cannot create Vulkan instance", b"driverID", b"driverName",
            b"driverInfo", b"apiVersion", b"deviceType"),
   benign=frozenset({"surface_unavailable"}),
   # (its device list's lines also where a console's stamp precedes them)
   anywhere=(b"GPU id = ",))

# A shell's words for the signal that killed a program: bash's (strsignal(): glibc's, then macOS's) and zsh's own.
SIGNAL_OF_REPORT = {"segmentation fault": "SIGSEGV", "aborted": "SIGABRT", "bus error": "SIGBUS",
                    "illegal instruction": "SIGILL", "floating point exception": "SIGFPE",
                    "trace/breakpoint trap": "SIGTRAP", "killed": "SIGKILL", "abort trap": "SIGABRT",
                    "trace/bpt trap": "SIGTRAP", "abort": "SIGABRT", "illegal hardware instruction": "SIGILL",
                    "trace trap": "SIGTRAP", "iot instruction": "SIGABRT"}
_BASH_CRASH_REPORTS = ("Segmentation fault|Aborted|Bus error|Illegal instruction|Floating point exception|"
                       "Trace/breakpoint trap|Killed|Abort trap|Trace/BPT trap")
# (zsh on Linux names SIGABRT by its other name, SIGIOT: "zsh: IOT instruction  qemu-system-x86_64 …")
_ZSH_CRASH_REPORTS = ("segmentation fault|abort|bus error|illegal hardware instruction|floating point exception|"
                      "trace trap|killed|IOT instruction")
# What the fast path and the parser look for in a shell's crash reports and in sanitizers' reports.
_CRASH_LITERALS = (b"Segmentation fault", b"Aborted", b"Bus error", b"Illegal instruction", b"Floating point exception",
                   b"Trace/breakpoint", b"zsh: ", b"terminated by signal", b"Killed", b"Abort trap", b"Trace/BPT",
                   b" abort ", b" segmentation fault ", b" killed ", b" bus error ", b" trace trap ", b"Sanitizer: ",
                   b": runtime error: ", b":err:")
# The VkResult error names as applications print them without "VK_" (ERROR_INCOMPATIBLE_DRIVER).
_ERROR_RESULTS = "|".join(sorted((name[3:] for name in vkresult.codes() if name.startswith("VK_ERROR_")),
                                 key=len, reverse=True))

APP = Family("app", "app", markers=(b"MESA: ", b"MESA-LOADER: ", b"virtio.so (", b" vn_", b"Abort message: ", b"failed with ",
                                   b"EGL driver name", b"/dev/dri", b"failed to initialize winsys", b"CONFIG_DRM",
                                   b"ErrorOutOf", b"Error", b"Assertion", b'assertion "',
                                   b"ggml_vulkan", b"ERROR_", b"VK_ERROR",
                                   b"Virtio-GPU Venus", b"required extensions", b"Selected GPU", b"[ERROR]",
                                   b"[FATAL]", b"Internal Vulkan error", b"CPU adapter", b"Driver :",
                                   b"Validation ", b"cannot open shared object", b"Fatal signal", b"VkResult", b"code -",
                                   b"returned -", b"ret=-", b"ret -", b"result -", b"result = -", b"result: -", b"res=-",
                                   b"installable client driver", b"zero accessible devices", b"/dev/kvm",
                                   b"No provider of ", b"OpenGL ", b' extension "')
             + _CRASH_LITERALS,
             rules=_rules(
    # libepoxy aborting the process whose GL or EGL context lacks a function (QEMU's display, virglrenderer, or any
    # program using it): what follows lists what would have provided it (Desktop OpenGL 1.0, EGL extension "…")
    (r"(?P<message>No provider of (?P<function>\w+) found)\.?\s+Requires one of:?", "gl_missing", "error"),
    (r"^(?P<provider>(?:Desktop OpenGL|OpenGL ES) \d+\.\d+|(?:GL|EGL|GLX|WGL) extension \"\w+\")\s*$",
     "gl_provider", "info"),
    # any VMM failing to use KVM (libkrun, crosvm, muvm, a container runtime's krun handler; QEMU's own words are
    # QEMU's kvm_unavailable), anchored and bounded: a line of repeated "/dev/kvm" costs one pass
    (r"^(?!\+ )(?P<message>.{0,300}?(?:/dev/kvm['\"`]?:?\s+(?:is\s+|was\s+)?(?:unavailable|[Pp]ermission denied|"
     r"[Nn]o such file|not found|not available|not exist|[Bb]usy|[Oo]peration not permitted)|"
     r"(?:[Ff]ailed to|[Cc]annot|[Cc]ould not|[Cc]ouldn't|[Uu]nable to|[Cc]an't) (?:open|access) ['\"`]?/dev/kvm\b).*)$",
     "kvm_unavailable", "error"),
    # each starts at a token (a start inside one would make a long token's search quadratic), and an expression is
    # at most 1000 characters (else a line of repeated "Assertion failed: " costs the square of its length)
    (r"(?<![^\s:])(?P<prog>[^\s:]+): (?P<file>[^:\s]+):(?P<line>\d+): (?P<function>\w+): "
     r"Assertion [`'](?P<expression>.{0,1000})' failed\.",
     "assertion", "error"),
    (r"(?<![^\s:])(?P<file>[^:\s]+):(?P<line>\d+): ?(?P<function>\w+): Assertion [`'](?P<expression>.{0,1000})' failed\.",
     "assertion", "error"),
    # Android's bionic assert(): …/vn_android.c:40: vn_android_gralloc_init: assertion "expr" failed
    (r"(?<![^\s:])(?P<file>[^:\s]+):(?P<line>\d+): (?P<function>\w+): assertion \"(?P<expression>.{0,1000})\" failed",
     "assertion", "error"),
    # newlib's and the older BSDs' assert(): assertion "expr" failed: file "x.c", line 12[, function: f]
    (r"assertion \"(?P<expression>.{0,1000}?)\" failed: file \"(?P<file>[^\"]{1,300})\", line (?P<line>\d+)"
     r"(?:, function:? (?P<function>[\w:~]+))?", "assertion", "error"),
    # a Mesa driver's vk_error()/vk_errorf(): the source line that returned the error, its message and result, bare
    # (older Mesa, a debug callback's text) or through Mesa's logger (MESA: error: ../src/virtio/vulkan/vn_….c:…)
    # (the file within the line's first 200 characters and a bounded message: a hostile line costs no n²)
    (r"^.{0,200}?(?<![^\s:])(?P<file>[^\s:]{1,300}\.(?:c|cc|cpp|h)):(?P<line>\d+): (?:(?P<message>.{0,1000}?) \()?"
     r"(?P<result>VK_ERROR_[A-Z0-9_]+)\)?\s*$", "vk_error", "error"),
    # Mesa's logger under its other tags (MESA: warning: Invalid log level…, MESA-LOADER: failed to open virtio_gpu…)
    (r"^(?P<tag>MESA(?:-(?!VIRTIO:)[A-Z]+)?): error: (?P<message>.*)$", "mesa_log", "error"),
    (r"^(?P<tag>MESA(?:-(?!VIRTIO:)[A-Z]+)?): warning: (?P<message>.*)$", "mesa_log", "warn"),
    (r"^(?P<tag>MESA-LOADER): (?P<message>failed.*)$", "mesa_log", "warn"),
    (r"^(?P<tag>MESA(?:-(?!VIRTIO:)[A-Z]+)?): (?:(?:debug|info): )?(?P<message>.*)$", "mesa_log", "info"),
    # macOS (and BSD) assert(): Assertion failed: (expr), function f, file x.c, line 12.
    (r"Assertion failed: \((?P<expression>.{0,1000})\), function (?P<function>[\w:~]+), file (?P<file>[^,]+), "
     r"line (?P<line>\d+)", "assertion", "error"),
    # musl's assert() (Alpine guests): Assertion failed: expr (file.c: function: 331)
    (r"Assertion failed: (?P<expression>.{0,1000}) \((?P<file>[^:()\s]+): (?P<function>\w+): (?P<line>\d+)\)",
     "assertion", "error"),
    (r"(?P<call>vk[A-Z]\w+) failed with (?:VK_)?(?P<result>ERROR_\w+)", "vk_call_failed", "error"),
    (r"(?P<call>vk::(?:\w+::)*\w+): (?P<result>Error\w+)", "vk_call_failed", "error"),
    # vulkan-hpp's exception, as the C++ runtime names it when nothing caught it (its what() follows)
    (r"instance of 'vk::(?P<result>(?!System|Logic)\w{1,60}Error)'", "vk_error", "error"),
    # no driver gave a device: vkcube's words, and the loader's count of zero
    (r"(?P<message>Cannot find a compatible Vulkan installable client driver|"
     r"vkEnumeratePhysicalDevices reported zero accessible devices)", "no_devices", "error"),
    # a Vulkan call's VkResult by number, said of the call itself: vkCreateDevice failed (VkResult: -8), … failed with
    # error code -3, vkQueueSubmit returned -4, vkWaitForFences: result = -4 (not another number on the line: an
    # ioctl's errno after the call's name, a count, a decimal, an errno's name after it)
    (r"(?<!\w)(?P<call>vk[A-Z]\w{1,60})(?:\(\))?:?\s+(?:failed\s*(?:with\s*)?[:(,]?\s*)?\(?"
     r"(?:VkResult|[Rr]esult|returned|ret|res|[Ee]rror code|[Ee]rror|err)\s*[:=]?\s*(?P<code>-\d{1,10})(?![\d.])"
     r"(?!\s*\(E[A-Z]+\))", "vk_call_failed", "error"),
    (r"^ggml_vulkan: (?P<index>\d+) = (?P<device>.+?) \((?P<driver>\w+)\) \|", "device_line", "info"),
    (r"^Vulkan(?P<index>\d+): (?P<device>.+?) \((?P<driver>\w+)\) \|", "device_line", "info"),  # newer ggml
    (r"^ggml_vulkan: No devices found", "no_devices", "error"),
    # dlopen()'s error, as a program that loads a library at run time prints it (libkrun.so, libvulkan.so.1)
    (r"(?<!\S)(?P<lib>[^\s:]+\.so[\w.]*): cannot open shared object file: (?P<error>.*)$", "library_missing", "error"),
    (r"^ggml_vulkan: (?P<message>.*\b(?:failed|[Ee]rror)\b.*)$", "ggml_error", "error"),
    (r"^ggml_vulkan: (?P<message>.*)$", "ggml_message", "info"),
    # the validation layers' messages in an application's own output (a host's come through "vkr: ")
    (r"^Validation Error: \[ (?P<vuid>[\w-]+) \]", "validation_error", "error"),
    (r"^Validation Warning: \[ (?P<vuid>[\w-]+) \]", "validation_warning", "warn"),
    # what a guest's GPU stack says it runs on: eglinfo's driver, a render node's driver, a Vulkan winsys failing
    (r"^EGL driver name: (?P<driver>\S+)", "egl_driver", "info"),
    (r"^(?P<node>/dev/dri/\w+): driver='(?P<driver>[^']*)'", "render_node", "info"),
    # a system with no DRM device at all: ls finding no /dev/dri (busybox's words, then coreutils'), and a kernel
    # configuration without DRM or its virtio-gpu driver (as the kernel's config.gz or a .config prints it)
    (r"^ls: (?:cannot access )?['\"]?(?P<node>/dev/dri(?:/\w+)?)/?['\"]?: No such file or directory", "dri_missing",
     "error"),
    (r"^(?:# )?(?P<option>CONFIG_DRM(?:_VIRTIO_GPU)?) is not set\s*$", "kernel_config_missing", "error"),
    (r"failed to initialize winsys(?: \((?P<detail>[^)]*)\))?", "winsys_failed", "warn"),
    # a crash backtrace's frames inside Venus: Android's tombstone (#01 pc 000d54ff  …/vulkan.virtio.so (vn_relax+351))
    # and gdb's (#1  0x00007f… in vn_relax (…) at …): where a program died in the driver
    (r"#(?P<frame>\d+) pc (?P<pc>[0-9a-fA-F]+)\s+(?P<object>\S*virtio\S*) \((?P<function>[^+)\s]+)\+(?P<offset>\d+)\)",
     "venus_frame", "info"),
    (r"^#(?P<frame>\d+)\s+(?:0x[0-9a-fA-F]+ in )?(?P<function>vn_\w+) \(", "venus_frame", "info"),
    # Valgrind's: ==4242==    at 0x4C2A1B: vn_ring_submit (vn_ring.c:123), by 0x…: vn_relax (in /usr/lib/libvulkan_virtio.so)
    (r"(?:at|by) 0x[0-9A-Fa-f]+: (?P<function>vn_\w+) \((?:(?P<where>[^:()\s]+):(?P<line>\d+)|in (?P<object>[^()]+))\)",
     "venus_frame", "info"),
    # a sanitizer's (ASan, UBSan, LSan) frames: #0 0x7f3a2b in vn_ring_submit ../src/virtio/vulkan/vn_ring.c:123:5
    (r"^#(?P<frame>\d+) 0x[0-9a-fA-F]+ in (?P<function>vn_\w+) (?P<where>\S+?)(?::(?P<line>\d+))?(?::\d+)?$", "venus_frame",
     "info"),
    # Android's debuggerd: the abort's own message; bionic's line for a process that died of a signal
    (r"Abort message: '(?P<message>.*)'", "abort_message", "error"),
    (r"Fatal signal (?P<signal>\d+) \((?P<name>SIG\w+)\)(?:.{0,200}?\bpid (?P<crashed_pid>\d+) "
     r"\((?P<process>[^)]{0,100})\))?", "fatal_signal", "error"),  # (bounded: a line's content never costs n²)
    # a shell's report of a program a signal killed: bash's (alone: "Segmentation fault (core dumped)", macOS's
    # "Abort trap: 6"; or a script's "./run.sh: line 3: 1234 Aborted  (core dumped) vkcube"), a job's in bash or
    # zsh ("[1]+  Killed  qemu-system-…", "[1]    26302 abort      krunkit -v"), zsh's and fish's (prog: the
    # command as the shell shows it)
    (r"^(?:.{0,300}?: line \d+:\s+(?P<crashed_pid>\d+) )?(?P<report>" + _BASH_CRASH_REPORTS + r")(?:: \d+)?"
     r"(?:\s+\(core dumped\))?(?(crashed_pid)\s+(?P<prog>\S.{0,300})|\s*)$", "crashed", "error"),
    (r"^\[\d+\][+-]?\s+(?:(?P<crashed_pid>\d+)\s+)?(?P<report>" + _BASH_CRASH_REPORTS
     + r")(?:: \d+)?(?:\s+\(core dumped\))?\s+(?P<prog>\S.{0,300})$", "crashed", "error"),
    (r"^\[\d+\]\s+[+-]?\s*(?P<crashed_pid>\d+) (?P<report>" + _ZSH_CRASH_REPORTS
     + r")(?: \(core dumped\))?\s+(?P<prog>\S.{0,300})$", "crashed", "error"),
    (r"^zsh: (?P<report>" + _ZSH_CRASH_REPORTS + r")(?: \(core dumped\))?\s+(?P<prog>\S.{0,300})$", "crashed",
     "error"),
    # bash's report of a foreground command without job control: the words, padding, then the command
    (r"^(?P<report>" + _BASH_CRASH_REPORTS + r")(?:: \d+)?(?:\s+\(core dumped\)\s+|\s{4,})(?P<prog>\S.{0,300})$",
     "crashed", "error"),
    (r"^fish: Job \d+, '(?P<prog>.{0,300})' terminated by signal (?P<name>SIG\w+)", "crashed", "error"),
    # Wine's and Proton's debug channels (a Windows game over DXVK/vkd3d on Venus): its errors, by channel
    (r"^[0-9a-f]{4,8}:err:(?P<channel>\w+):(?P<function>\w+) (?P<message>.*)$", "wine_error", "error"),
    # the sanitizers' reports (a QEMU, virglrenderer or Mesa built with -fsanitize: ASan, LSan, TSan, UBSan)
    (r"^==\d+==ERROR: (?P<sanitizer>\w{1,40}Sanitizer): (?P<message>.*)$", "sanitizer", "error"),
    (r"^WARNING: (?P<sanitizer>\w{1,40}Sanitizer): (?P<message>.*)$", "sanitizer", "warn"),
    (r"^SUMMARY: (?P<sanitizer>\w{1,40}Sanitizer): (?P<message>.*)$", "sanitizer_summary", "error"),
    (r"(?<![^\s:])(?P<file>[^\s:]{1,300}):(?P<line>\d+):(?P<column>\d+): runtime error: (?P<message>.*)$", "sanitizer",
     "error"),
    # Windows' CRT (MSVC, MinGW: a QEMU built with MSYS2): Assertion failed: expr, file f, line n
    (r"Assertion failed: (?P<expression>.{0,1000}?), file (?P<file>[^,\s]{1,300}), line (?P<line>\d+)", "assertion",
     "error"),
    # systemd's and GLib-style "Assertion 'x' failed at f:n, function g(). Aborting."; any other "Assertion failed"
    (r"Assertion [`'\"](?P<expression>[^'\"`]*)[`'\"] failed(?: at (?P<file>[^:\s]{1,300}):(?P<line>\d+), "
     r"function (?P<function>\w+)\(\))?", "assertion", "error"),
    (r"Assertion failed[:!]?\s*(?P<expression>.*)$", "assertion", "error"),
    (r"^Selected GPU (?P<index>\d+): (?P<device>.+?), type: (?P<type>\w+)", "device_line", "info"),
    (r"does not support required extensions, missing: \[(?P<missing>[^\]]*)\]", "missing_extensions", "error"),
    (r"^\[(?:ERROR|FATAL)\]\s+(?P<message>.*)$", "error", "error"),  # an application's own logger
    (r"Internal Vulkan error \((?P<code>-\d+)\): (?P<message>.*?)(?:, in \S+|$)", "vk_call_failed", "error"),
    (r"Skipping CPU adapter: (?P<device>.+)$", "adapter_skipped", "info"),
    (r"^info:\s+Driver\s*: (?P<driver>\w+) (?P<version>\S+)", "driver_line", "info"),
    # the same through a debug messenger, as vulkaninfo prints a driver's: ERROR: [file.c:123] Code 0 : msg (VK_ERROR_…)
    (r"^.{0,200}?\[(?P<file>[^\s:\[\]]{1,300}\.(?:c|cc|cpp|h)):(?P<line>\d+)\] Code \d+ : (?:(?P<message>.{0,1000}?) \()?"
     r"(?P<result>VK_ERROR_[A-Z0-9_]+)\)?\s*$", "vk_error", "error"),
    # (its name cut by a wrap, or glued after a word as a program concatenated it: still an error)
    (r"(?<![A-Z0-9_])(?P<result>VK_ERROR(?:_\w+)?)\b", "vk_error", "error"),
    # vulkan-hpp's spelling, also inside vk::Result::eErrorOutOfDeviceMemory
    (r"(?P<result>Error(?:OutOf[A-Z]\w*|InitializationFailed|DeviceLost|IncompatibleDriver|SurfaceLostKHR|"
     r"(?:Extension|Feature|Layer)NotPresent|MemoryMapFailed|TooManyObjects|FormatNotSupported|FragmentedPool))\b",
     "vk_error", "error"),
    # a VkResult's name without its VK_ (vulkaninfo's and many applications' spelling)
    (r"(?<![\w])(?P<result>" + _ERROR_RESULTS + r")\b", "vk_error", "error"),
    # another API's out-of-something error (OpenCL's, a VkResult's name cut by a wrap): an error all the same
    (r"(?P<message>\b\w*ERROR_OUT_OF\w*)", "error", "error"),
    # an application naming the device it uses: the guest's Venus device and, inside it, the host's GPU
    # (the host GPU's own name may hold parentheses: Virtio-GPU Venus (Intel(R) UHD Graphics 620 (KBL GT2)))
    (r"(?P<device>Virtio-GPU Venus \((?P<host_gpu>(?:[^()]|\((?:[^()]|\([^()]*\))*\))*)\))", "venus_device", "info"),
), tracked=(b"ERROR_", b"VK_ERROR", b"/dev/kvm", b"No provider of ", b"ErrorOutOf", b"Assertion", b"Virtio-GPU Venus",
            b"required extensions", b"[ERROR]", b"[FATAL]", b"Internal Vulkan error", b"No devices found", b"MESA: error:",
            b"Abort message: ",
            b"virtio.so (vn_", b" in vn_", b": vn_", b"cannot open shared object", b"ErrorInitializationFailed",
            b"ErrorDeviceLost", b"ErrorIncompatibleDriver", b"ErrorSurfaceLostKHR", b"NotPresent", b"ErrorMemoryMapFailed",
            b"ErrorTooManyObjects", b"ErrorFormatNotSupported", b"ErrorFragmentedPool", b'assertion "',
            b"VkResult", b"code -", b"returned -", b"ret=-", b"ret -", b"result -", b"result = -", b"result: -", b"res=-",
            b"Fatal signal", b"installable client driver",
            b"zero accessible devices", b"Error'",
            b"/dev/dri", b"CONFIG_DRM") + _CRASH_LITERALS,  # (Error': vulkan-hpp's uncaught exception)
   benign=frozenset({"gl_provider"}), mentions=("Assertion", "ErrorOutOf"))

# virglrenderer's and the render server's own prints that are not `vkr:` lines: debug prints of its
# functions (`vkr_context_add_resource: res_id = 5`, `virgl_resource_create: err=0, res=2`,
# `render_receive_request: …`), and whatever the render server logs under its own program name.
VIRGL = Family("virglrenderer", "host", markers=(b"vkr_", b"virgl_", b"vrend_", b"render_", b"dispatch context op",
                                                 b"proxy: ", b"virgl context", b"failed to dispatch ",
                                                 b"context error reported"),
               # the render server's failures and the GL renderer's context errors, not their debug prints
               # (virgl_test_server : the vtest server's command line, its options)
               tracked=(b"dispatch context op", b"invalid request", b"proxy: failed", b"proxy: invalid",
                        b"virgl context", b"virgl_test_server ", b"context error reported", b"failed to dispatch "),
               tracked_if=((b"render_server", (b"rror", b"ail", b"annot", b"nable", b"abort", b"Fault")),),
               rules=_rules(
    (r"failed to dispatch context op (?P<op>\d+)", "context_op_failed", "error"),
    # the GL renderer (vrend: virgl, not Venus) rejecting a guest context's commands, and the command it failed
    (r"^(?P<fn>\w+): context error reported (?P<ctx>\d+) \"(?P<name>[^\"]{0,200})\" (?P<error>.*?)"
     r"(?: (?P<value>\d+))?$", "gl_context_error", "error"),
    (r"^context (?P<ctx>\d+) failed to dispatch (?P<command>\w+): (?P<err>-?\d+)", "gl_dispatch_failed", "error"),
    # a virglrenderer function failing, in a VMM's words (virgl_renderer_init failed: -1)
    (r"^(?P<fn>(?:virgl|vkr|vrend)_\w+)(?:\(\))? failed\b:?\s*(?P<message>.*)$", "call_failed", "error"),
    # the VMM's side of the render server (src/proxy): proxy_log() prefixes "proxy: "
    (r"^proxy: (?P<message>(?:failed|invalid|fd \d+ err|socket disconnected).*)$", "proxy_error", "error"),
    (r"^proxy: (?P<message>.*)$", "proxy_message", "info"),
    (r"^failed to initialize virgl context", "context_init_failed", "error"),
    # virgl_renderer_init() refusing to start (printed on the VMM's stderr, no prefix): no 3D at all
    (r"(?P<message>failed to initialize (?:virgl resources|vrend winsys|vrend renderer|drm renderer|fence table)|"
     r"failed to get egl display|renderer already initialized|invalid renderer (?:gl |vrend )?callbacks)",
     "init_failed", "error"),
    # systemctl status's process tree: which render servers run, with their arguments
    (r"[├└]─(?P<pid>\d+) (?P<command>\S*virgl_(?:render|test)_server\b.*)$", "process", "info"),
    # a render or vtest server's command line anywhere else (ps, pstree, a pasted command): its options say how
    # it was started (a vtest server without --venus serves no Venus)
    (r"(?:^|\s)(?P<command>\S*virgl_(?:render|test)_server(?: +--?[\w-]+(?:[= ][^\s-]\S*)?)+)", "process", "info"),
    # the render server's own render_log() lines, named by their envelope (virgl_render_server[PID]: …); not another
    # program's "failed to dispatch events" that the GL renderer's marker brought here (crosvm's, libkrun's)
    (r"^(?!failed to dispatch (?!context op))(?P<message>(?:[Ff]ailed|[Ii]nvalid|[Uu]nknown|[Uu]nable|[Cc]an't|too many|"
     r"no socket|socket disconnected)\b.*)$", "error", "error"),
    (r"^(?P<fn>(?:vkr|virgl|vrend|render|proxy)_\w+)(?:\(\))?: ?(?P<message>.*)$", "debug_print", "debug"),
), programs=("virgl_render_server", "virgl_test_server", "virglrenderer", "render_server"),
               mentions=("render_server", "virglrenderer"),
               anywhere=(b"failed to initialize virgl resources", b"failed to initialize vrend ",
                         b"failed to initialize drm renderer", b"failed to initialize fence table",
                         b"failed to get egl display", b"invalid renderer callbacks", b"invalid renderer gl callbacks",
                         b"invalid renderer vrend callbacks", b"renderer already initialized"))

# A pasted terminal: the prompt and the command the user ran (`user@host:~$ vkcube`, `localhost:~# vulkaninfo`,
# `# vulkaninfo`). The prompt is an envelope (parse/envelope.py) that names the shell as the line's program, so
# a program's output pasted on the prompt's line is that program's. Only a command that sets Venus's variables
# is tracked (its VN_DEBUG says which Venus lines should follow); any other says what ran next.
# Possessive quantifiers: tried at the start of every line, so a long "1234@5678.9:…" must cost one pass.
PROMPT = (r"(?:\[?[\w.\-]++@[\w.\-]++[^\s$#]*+(?:\s[^$#\n]{0,60}?)?[$#]|[\w.\-]++:[~/][^\s$#]{0,60}+[$#]|[$#]"
          r"|➜ ++\S++(?: git:\([^)\s]{0,60}\))?(?: ✗)?"  # oh-my-zsh's arrow, directory and branch
          r"|(?:PS )?[A-Za-z]:\\[^>\n]{0,80}+>) ")  # PowerShell's and cmd's (a QEMU on Windows): PS C:\Users\me>
SHELL_PROGRAM = "shell prompt"
SHELL = Family("shell", "app", rules=_rules(
    (r"^(?P<command>(?:\S.*\s)?VN_(?:DEBUG|PERF)=.*)$", "venus_command", "info"),
    (r"^(?P<command>\S.*)$", "command", "info"),
), tracked=(b"VN_DEBUG=", b"VN_PERF="), benign=frozenset({"command"}), programs=(SHELL_PROGRAM,), searched=False)

# The registry. Its order is the order lines are tried in, and the fast path's format codes are positions
# in it (0 is plain text).
FAMILIES = (MESA, VKR, SERVER, VTEST, LDSO, MVK, STEP, SYSTEMD, KERNEL, QEMU, CROSVM, KRUN, LOADER, VULKANINFO, APP, VIRGL, SHELL)
FORMAT_NAMES = ("text",) + tuple(family.name for family in FAMILIES)
SEARCHED = tuple(family for family in FAMILIES if family.searched)
BY_PROGRAM = {program: family for family in FAMILIES for program in family.programs}
# The parser's dispatch: families by the first character their starts allow, and by their anywhere literals.
STARTING: dict[str, tuple[Family, ...]] = {}
for _family in FAMILIES:
    for _start in _family.starts:
        for _char in _start.positions[0].decode():
            if _family not in STARTING.get(_char, ()):
                STARTING[_char] = STARTING.get(_char, ()) + (_family,)
ANYWHERE = tuple((family, tuple(m.decode() for m in family.anywhere)) for family in FAMILIES if family.anywhere)
ANYWHERE_LITERALS = re.compile("|".join(re.escape(m) for _, literals in ANYWHERE for m in literals))
# Per family, whether a payload holds one of its anywhere literals: one search in C instead of a loop per literal.
ANYWHERE_SEARCH = tuple((family, re.compile("|".join(map(re.escape, literals))).search) for family, literals in ANYWHERE)
# Another family's line behind a kernel-like stamp (a program's output on a serial console): those literals
# but the kernel's own.
OTHERS_BEHIND_STAMP = re.compile("|".join(re.escape(m) for family, literals in ANYWHERE if family.name != "kernel"
                                          for m in literals))

GLUED_MARKERS = tuple(marker for family in FAMILIES for marker in family.glued)
# Kinds a line is only where it starts with them, never glued after other output ("[2]-  Killed  qemu-system-x86_64
# -M virt" is a shell's report, not a QEMU command line)
WHOLE_LINE_KINDS = frozenset({"command_line"})
_MENTIONED = {word: family for family in FAMILIES for word in family.mentions}
_MENTION = re.compile("|".join(re.escape(word) for word in _MENTIONED))


def mentioned(text: str) -> Family | None:
    """The family whose component the text names first (its mention words), for a line no rule knows."""
    match = _MENTION.search(text)
    return _MENTIONED[match.group()] if match else None
# Which formats are a guest's lines and which the host's (the model attributes runs and handles by them).
GUEST_FORMATS = frozenset(family.name for family in FAMILIES if family.side == "guest")
HOST_FORMATS = frozenset(family.name for family in FAMILIES if family.side == "host")

def required_literal(pattern: str) -> str | None:
    """The longest run of plain characters every match of a regex holds (outside alternations, repeats,
    classes and optional groups), if it has three or more; None where it has none or cannot be read."""
    from re import _parser  # Python's own reader of the syntax RE2 shares for what this looks at

    try:
        parsed = _parser.parse(pattern)
    except Exception:  # RE2-only syntax: no marker, the user's lines are all looked at
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    runs: list[str] = [""]

    def walk(items) -> None:
        for op, arg in items:
            if op is _parser.LITERAL:
                runs[-1] += chr(arg)
            elif op is _parser.SUBPATTERN and not (arg[1] or arg[2]):  # a group without flags
                walk(arg[3])
            elif op is _parser.AT:
                continue  # ^ and $ take no characters
            else:
                runs.append("")
    walk(parsed)
    best = max(runs, key=len)
    return best if len(best.encode()) >= 3 else None


def user_family(rule) -> Family:
    """A user's [[rules]] entry as a family of the registry: its side, its kind, and the markers the fast
    path looks for (given, or read from the pattern; none means every plain line is looked at)."""
    markers = rule.markers or tuple(m for m in (required_literal(rule.pattern.pattern),) if m)
    literals = tuple(m.encode() for m in markers)
    return Family(f"user:{rule.name}", rule.side, ((rule.pattern, rule.kind or rule.name, rule.level),),
                  markers=literals, tracked=literals)


# vulkan.hpp's names for results (ErrorOutOfHostMemory) in VkResult's spelling.
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def vk_result_name(spelled: str) -> str:
    """VK_ERROR_OUT_OF_HOST_MEMORY from ErrorOutOfHostMemory or ERROR_OUT_OF_HOST_MEMORY."""
    if spelled.startswith("VK_"):
        return spelled
    if "_" in spelled or spelled.isupper():
        return "VK_" + spelled
    if spelled.endswith("Error") and not spelled.startswith("Error"):  # vulkan-hpp's exception: DeviceLostError
        spelled = "Error" + spelled[:-len("Error")]
    suffix = next((s for s in _VENDOR_SUFFIXES if spelled.endswith(s)), "")  # ErrorOutOfDateKHR: _KHR, one word
    name = "VK_" + _CAMEL.sub("_", spelled[:len(spelled) - len(suffix)]).upper()
    return f"{name}_{suffix}" if suffix else name


_VENDOR_SUFFIXES = ("KHR", "EXT", "NV", "AMD", "INTEL", "GOOGLE", "MESA", "QCOM", "ARM")


@lru_cache(maxsize=4096)  # every enveloped payload asks; programs are few
def family_of_program(program: str) -> Family | None:
    """The family of a program named by an envelope (``krun_vmm::linux::vstate`` → krun, ``qemu-system-aarch64``
    → qemu, ``/usr/libexec/virgl_render_server`` → virglrenderer, a ``….rs`` source file → crosvm)."""
    if program.endswith(".rs"):  # crosvm's logger names the source file: devices/src/virtio/gpu/mod.rs
        return CROSVM
    if program == "devices::virtio::gpu":  # crosvm's GPU device logs from its mod.rs; libkrun's from submodules
        return CROSVM                     # (…::gpu::worker, …::gpu::virtio_gpu: its gpu/mod.rs logs nothing)
    if program == "kernel":  # syslog's kernel lines, and dmesg's -T and -H stamps (parse/envelope.py)
        return KERNEL
    root = program.split("::", 1)[0].rsplit("/", 1)[-1]
    return BY_PROGRAM.get(root) or next((f for p, f in BY_PROGRAM.items() if root.startswith(p)), None)


LOGGER_LEVELS = {"ERROR": "error", "WARN": "warn", "WARNING": "warn", "V": "debug", "D": "debug", "I": "info", "W": "warn",
                 "E": "error", "F": "error", "INFO": "info", "DEBUG": "debug", "TRACE": "debug",
                 "Error": "error", "Fault": "error", "Default": "info", "Info": "info", "Debug": "debug",
                 "emerg": "error", "alert": "error", "crit": "error", "error": "error", "err": "error", "warn": "warn",
                 "notice": "info", "info": "info", "debug": "debug",
                 # Go's logrus and zap, Chromium's logging
                 "warning": "warn", "fatal": "error", "panic": "error", "dpanic": "error", "trace": "debug",
                 "FATAL": "error",
                 # GLib's g_log (vhost-user-gpu, GTK's Gdk): CRITICAL is an error, Message is info
                 "CRITICAL": "error", "Message": "info",
                 # ChromeOS's syslog severities
                 "EMERG": "error", "ALERT": "error", "CRIT": "error", "ERR": "error", "NOTICE": "info",
                 # logrus's text for a terminal
                 "TRAC": "debug", "DEBU": "debug", "ERRO": "error", "FATA": "error", "PANI": "error"}
# A guest program's Vulkan calls, as the steps the model follows (number and role).
FENCETEST_STEPS = {"vkCreateInstance": (1, "instance"), "vkEnumeratePhysicalDevices": (2, "physdev"),
                   "vkCreateDevice": (3, "device"), "vkCreateFence": (5, "fence"), "vkQueueSubmit": (6, "submit"),
                   "vkGetFenceStatus": (7, "status"), "vkWaitForFences": (8, "wait")}


def _fencetest(text: str, what: str, fields: dict, head: str) -> tuple:
    """[fencetest] lines (this project's guest program) as steps: a call with its result, the queue it got."""
    handles = find_handles(head)
    if "driver_version" in fields:  # a version number, not an object
        handles = tuple(h for h in handles if h != int(fields["driver_version"], 16))
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


_SEARCHED_BUT = {family: tuple(other for other in SEARCHED if other is not family) for family in FAMILIES}


def recognise(text: str, head: str, wrapped, program_message: bool = True) -> tuple[tuple, ...] | None:
    """A payload's record in the field's families: an env_logger line by its target, else by markers; None
    for none. wrapped is the line's envelope (parse/envelope.py); with program_message, a payload no rule knows
    is still a message of the program its envelope names."""
    program = family_of_program(wrapped.fields["prog"]) if "prog" in wrapped.fields else None
    if program is not None and program.side == "vmm" and wrapped.forms[-1] in ("dmesg", "kernel-priority"):
        program = KERNEL  # the guest's console in a VMM's output (krunkit[42]: [    0.51] [drm] …) is the kernel's
    # The program's rules first; but a shell prompt's line is a command only when no family knows what follows
    # the prompt (a program's output pasted on the prompt's line).
    others = _SEARCHED_BUT.get(program, SEARCHED)
    for family in others + (SHELL,) if program is SHELL else ((program,) if program else ()) + others:
        if family is not program and family.marker_search is not None and not family.marker_search(head):
            continue
        if program not in (None, SHELL) and family is not program and family.side == "kernel":
            continue  # a program's line is never the kernel's (libkrun's "virtio_gpu: GET_shm_region")
        parts = apply(family, text, head)
        if parts is not None:
            return (parts,)
    if program is not None and program_message:  # no rule knew it: a message of that program, as its envelope says
        level = LOGGER_LEVELS.get(wrapped.fields.get("level", "")) or level_from_words(head, "info")
        return ((program.name, "message", text, level, {"message": head}, find_handles(head)),)
    return None


# Kinds whose "code" is a VkResult's number (the loader's message "Code 0" is not one).
CALL_FAILED_BY_NUMBER = frozenset({"vk_call_failed", "icd_call_failed"})


# A program's catch-all lines, logged at one level whatever they say: their words say how bad they are.
WORDED_KINDS = frozenset({"message", "debug_print", "proxy_message"})


def at_least_as_bad_as_said(parts: tuple[tuple, ...], said: str) -> tuple[tuple, ...]:
    """Records whose catch-all lines are raised to the level their envelope names (a logger's ERROR around
    "krunkit: …"); a rule's own kinds keep the level the rule gives."""
    floor = LOGGER_LEVELS.get(said)
    if floor is None or floor in ("debug", "info"):
        return parts
    return tuple((fmt, what, text, max(level, floor, key=LEVELS.index) if what in WORDED_KINDS else level, fields, handles)
                 for fmt, what, text, level, fields, handles in parts)


def apply(family: Family, text: str, head: str) -> tuple | None:
    """The record (as parts) of the first of the family's rules found in head; None for none."""
    for pattern, what, level in family.rules:
        match = pattern.search(head)
        if match:
            fields = {k: v for k, v in match.groupdict().items() if v is not None}
            if family is STEP and what in FENCETEST_KINDS:
                return _fencetest(text, what, fields, head)
            if "result" in fields and family is APP:
                fields["result"] = vk_result_name(fields["result"])
                fields["code"] = vkresult.code_of(fields["result"])
            elif "code" in fields and what in CALL_FAILED_BY_NUMBER:  # a VkResult by number
                fields["code"] = int(fields["code"])
                fields["result"] = vkresult.name_of(fields["code"])
            elif "report" in fields:
                fields["name"] = SIGNAL_OF_REPORT[fields["report"].lower()]
            if what in family.benign:
                level = "info" if level != "debug" else level
            elif what in WORDED_KINDS and level in ("debug", "info"):
                level = level_from_words(fields.get("message", head), level)
            return (family.name, what, text, level, fields, find_handles(head))
    return None
