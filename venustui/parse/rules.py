"""Line rules for each format Venus debugging meets, as data: (regex, message kind, level).

Formats and their spellings are those of VENUS_FACTS.md: Mesa's ``MESA-VIRTIO:``
logger, the seed's ``[VKR]`` prints, the render server's ``vkr:`` lines, the vtest
server, the dynamic linker, MoltenVK's ``[mvk-*]`` lines, test-program steps and
kernel ``virtio_gpu`` messages.
"""

from __future__ import annotations

import re

Rule = tuple[re.Pattern[str], str, str]


def _rules(*items: tuple[str, str, str]) -> tuple[Rule, ...]:
    return tuple((re.compile(pattern), what, level) for pattern, what, level in items)


MESA_PREFIX = re.compile(r"^MESA-VIRTIO: (?:(?P<level>debug|info|warning|error): )?(?P<msg>.*)$", re.S)
ENV_FIELD = re.compile(r"^\t(?P<key>\w+) = (?P<value>\S+)\s*$")

MESA = _rules(
    (r"^vn_env is as below:$", "vn_env", "debug"),
    (r"^connected to renderer$", "connected", "debug"),
    (r"^wire format version (?P<guest>\d+) != (?P<host>\d+)$", "wire_format_mismatch", "error"),
    (r"^wire format version (?P<version>\d+)$", "wire_format", "debug"),
    (r"^vk xml version (?P<version>\S+)$", "vk_xml_version", "debug"),
    (r"^VK_MESA_venus_protocol spec version (?P<version>\d+)$", "protocol_version", "debug"),
    (r"^renderer instance version (?P<version>\S+)$", "renderer_instance_version", "debug"),
    (r"^stuck in (?P<reason>.+?) wait with iter at (?P<iter>\d+)$", "stuck_wait", "warn"),
    (r"^aborting on ring fatal error at iter (?P<iter>\d+)$", "ring_fatal", "error"),
    (r"^aborting on expired ring alive status at iter (?P<iter>\d+)$", "ring_alive_expired", "error"),
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
)

VKR_PRINT = re.compile(r"^\[VKR\]\s*(?P<fn>[A-Za-z_]\w*)\s*:?\s*(?P<rest>.*)$", re.S)
KEY_VALUE = re.compile(r"(?<!\w)(?P<key>[A-Za-z_]\w*)=(?P<value>[^\s,;()]+)")
RETURNED = re.compile(r"\b(?:returned|ret(?:urn)?|result)\s*[=:]?\s*(?P<ret>-?\d+|VK_[A-Z0-9_]+)\b")

SERVER_LINE = re.compile(r"^(?:(?P<prog>\S+?)\[(?P<pid>\d+)\]: )?vkr: (?P<msg>.*)$", re.S)
SERVER_SPLIT = re.compile(r"(?<=\S)\s*vkr: ")
SERVER = _rules(
    (r"^(?P<fn>\w+): ring seqno\((?P<seqno>\d+)\) unable to reach wait seqno\((?P<wait>\d+)\)",
     "ring_seqno_unreachable", "error"),
    (r"cmd_size\((?P<size>\d+)\) > ring->buffer\.size\((?P<ring_size>\d+)\)", "ring_cmd_too_big", "error"),
    (r"^ring_submit_cmd: vn_dispatch_command failed", "ring_dispatch_failed", "error"),
    (r"early bail due to fatal decoder state", "decoder_fatal", "error"),
    # Benign: every app that exits without freeing its objects (never above info).
    (r"^destroying context (?P<ctx>\d+) \((?P<name>.*)\) with a valid instance", "context_destroyed_live", "info"),
    (r"^destroying device with valid objects", "device_destroyed_live", "info"),
    (r"^failed to import resource: invalid res_id (?P<id>\d+)", "import_failed", "error"),
    (r"^(?P<fn>\w+) resulted in CS error", "cs_error", "error"),
    (r"^submit_cmd: vn_dispatch_command failed", "dispatch_failed", "error"),
    (r"^mem is not exportable", "mem_export_failed", "error"),
    (r"^mem cannot support mappable blob", "mem_export_failed", "error"),
    (r"^mem fd export failed \(vk ret (?P<ret>-?\d+)\)", "mem_export_failed", "error"),
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
)
VALIDATION_OBJECT = re.compile(r"handle = (?P<handle>0x[0-9a-fA-F]+), (?:name = [^,]*, )?type = (?P<type>VK_OBJECT_TYPE_\w+)")
VUID = re.compile(r"\[ (?P<vuid>[\w-]+) \]")

VTEST = _rules(
    (r"^(?P<caller>\w+) called (?P<callee>\w+) which failed \((?P<ret>-?\d+)\)$", "call_failed", "error"),
    (r"^client: (?P<status>VTEST_CLIENT_DISCONNECTED)$", "client_status", "info"),
    (r"^client: (?P<status>VTEST_CLIENT_\w+)$", "client_status", "error"),
    (r"^(?P<fn>\w+): client context created\.$", "context_created", "info"),
    (r"SIGSEGV!", "segv", "error"),
    (r"^proxy: failed to exec (?P<path>\S+): (?P<error>.*)$", "exec_failed", "error"),
)

LDSO = _rules(
    (r"^(?P<prog>\S+): (?P<lib>\S+): (?P<weak>weak )?version [`'](?P<version>[^']+)' not found \(required by (?P<by>.+)\)$",
     "version_not_found", "warn"),
    (r"^(?P<prog>\S+): error while loading shared libraries: (?P<error>.*)$", "load_error", "error"),
)

MVK = re.compile(r"^\[mvk-(?P<mvk_level>error|warn|info|debug|trace)\]\s*(?P<msg>.*)$", re.S)
MVK_LEVELS = {"error": "error", "warn": "warn", "info": "info", "debug": "debug", "trace": "debug"}

STEP = re.compile(
    r"^(?P<num>\d{1,2})\.\s+(?P<name>[A-Za-z][A-Za-z ]{0,40}?)"
    r"(?:\s*:\s*(?P<value>.*)|\s+(?P<status>OK|ok|created|failed|FAILED|done)(?P<tail>(?:\s.*)?))$"
)
PROGRESS = re.compile(r"^(?P<name>[a-z][a-z0-9_ ]{0,40}?) (?P<status>ok|OK|failed|FAILED)(?P<tail>(?:\s.*)?)$")
STEP_EXTRA = _rules(
    (r"^-> crash: \"(?P<message>.*)\"$", "crash", "error"),
    (r"^polls until signaled (?P<polls>\d+) in (?P<ms>[\d.]+) ms$", "polls_until_signaled", "info"),
    (r"^signaled-fence status polls/s: (?P<rate>\d+)$", "poll_rate", "info"),
)
RESULT_IN_VALUE = re.compile(r"\((?P<name>VK_[A-Z0-9_]+)\)")

KERNEL = re.compile(r"^(?:<\d>)?\[\s*(?P<ts>\d+\.\d+)\]\s*(?P<msg>.*)$|^(?:<\d>)?\[\s(?P<msg2>.*)$|kernel: (?P<msg3>.*)$", re.S)

# The lookbehind follows the literal "0x" so the search can skip ahead to each "0x".
HANDLE = re.compile(r"0x(?<![\w]0x)[0-9a-fA-F]{4,16}\b", re.ASCII)
STAND_IN_SPLIT = re.compile(r"0x5eed5eed([0-9a-f]{8})")  # parse.STAND_IN and its number
HANDLE_SPLIT = re.compile(r"(0x(?<![\w]0x)[0-9a-fA-F]{4,16}\b)", re.ASCII)  # a line between and around its handles

STEP_ROLES = {
    "instance": "instance",
    "physdev": "physdev",
    "physical device": "physdev",
    "physicaldevice": "physdev",
    "device": "device",
    "queue": "queue",
    "fence": "fence",
    "submit": "submit",
    "status": "status",
    "wait": "wait",
}
