"""How the structured families' lines split into fields: their prefixes, key=value pairs, results,
handles. Which families exist, their markers and their message rules are the registry's
(parse/families.py); this module holds only the shapes the parser's own code reads.
"""

from __future__ import annotations

import errno
import re

# (a line cut right after the tag, as mail wraps a long one, is still Mesa's, with an empty message)
MESA_PREFIX = re.compile(r"^MESA-VIRTIO(?:\(\s*\d+\))?:(?: |$)(?:(?P<level>debug|info|warning|error): )?(?P<msg>.*)$", re.S)
ENV_FIELD = re.compile(r"^\t(?P<key>\w+) = (?P<value>\S+)\s*$")
ENV_FIELD_PEELED = re.compile(r"\t?(?P<key>\w+) = (?P<value>\S+)\s*$")  # matched where an envelope ends
# (a message after any spaces, or none: a mail client wrapped it away; only at a word's start: a search from inside
# a long word would cost the square of its length)
VN_FUNCTION_MESSAGE = re.compile(r"(?<!\w)(?P<fn>vn_\w+): ")
VKR_PRINT = re.compile(r"^\[VKR\]\s*(?P<fn>[A-Za-z_]\w*)\s*:?\s*(?P<rest>.*)$", re.S)
KEY_VALUE = re.compile(r"(?<!\w)(?P<key>[A-Za-z_]\w*)=(?P<value>[^\s,;()]+)")
RETURNED = re.compile(r"\b(?:returned|ret(?:urn)?|result)\s*[=:]?\s*(?P<ret>-?\d+|VK_[A-Z0-9_]+)\b")

SERVER_LINE = re.compile(r"^(?:(?P<prog>\S+?)\[(?P<pid>\d+)\]: )?vkr: (?P<msg>.*)$", re.S)
SERVER_SPLIT = re.compile(r"(?<=\S)\s*vkr: ")
VALIDATION_OBJECT = re.compile(r"handle = (?P<handle>0x[0-9a-fA-F]+), (?:name = [^,]*, )?type = (?P<type>VK_OBJECT_TYPE_\w+)")
VUID = re.compile(r"\[ (?P<vuid>[\w-]+) \]")

MVK = re.compile(r"^\[mvk-(?P<mvk_level>error|warn|info|debug|trace)\]\s*(?P<msg>.*)$", re.S)
MVK_LEVELS = {"error": "error", "warn": "warn", "info": "info", "debug": "debug", "trace": "debug"}

STEP = re.compile(
    r"^(?P<num>\d{1,2})\.\s+(?P<name>[A-Za-z][A-Za-z ]{0,40}?)"
    r"(?:\s+(?P<status>OK|ok|created|failed|FAILED|done)(?:\s*:\s*(?P<detail>.*)|(?P<tail>(?:\s.*)?))"
    r"|\s*:\s*(?P<value>.*))$"
)
PROGRESS = re.compile(r"^(?P<name>[a-z][a-z0-9_ ]{0,40}?) (?P<status>ok|OK|failed|FAILED)(?P<tail>(?:\s.*)?)$")

# dmesg -d and journalctl -o short-delta print the delta from the line before inside the brackets.
KERNEL = re.compile(r"^(?:<\d>)?\[\s*(?P<ts>\d+\.\d+)(?:\s*<\s*\d+\.\d+>)?\](?:\[\s*[TC]\d+\])?\s*(?P<msg>.*)$"
                    r"|^(?:<\d>)?\[\s(?!\s*\+\s*\d+\.\d+\])(?=\s*\d)(?P<msg2>.*)$|^(?:\S+ )?kernel: (?P<msg3>.*)$", re.S)
# (dmesg -H's delta, [  +0.000123], is an envelope: what follows it is any family's)

# The lookbehind follows the literal "0x" so the search can skip ahead to each "0x".
HANDLE = re.compile(r"0x(?<![\w]0x)[0-9a-fA-F]{4,16}\b", re.ASCII)
STAND_IN_SPLIT = re.compile(r"0x5eed5eed([0-9a-f]{8})")  # parse.STAND_IN and its number
HANDLE_SPLIT = re.compile(r"(0x(?<![\w]0x)[0-9a-fA-F]{4,16}\b)", re.ASCII)  # a line between and around its handles

# A step's role by the words of its name (a test's own wording: "Submit returned", "GetFenceStatus",
# "vkWaitForFences"), the first that fits: a status or wait names the fence too, a physical device the device.
STEP_ROLE_WORDS = (("submit", "submit"), ("status", "status"), ("wait", "wait"), ("phys", "physdev"),
                   ("instance", "instance"), ("device", "device"), ("queue", "queue"), ("fence", "fence"))


def step_role(name: str) -> str:
    words = name.lower()
    return next((role for word, role in STEP_ROLE_WORDS if word in words), words)


# A logger that prints every line at one level (Mesa's vn_log at debug, the render server's vkr_log at info)
# leaves how bad a line is to its words: a program's own warning first, then what failed.
WARNING_WORDS = re.compile(r"(?i)\b(?:warn(?:ing)?|timed out|ignoring|leaked|non-monotonic)\b")
FAILURE_WORDS = re.compile(r"(?i)\b(?:fail(?:ed|s|ure)?|invalid|missing|unsupported|unhandled|unrecognized|cannot|"
                           r"can't|unable|not enabled|out-of-bounds|exceeds|is required|must be|overflow|overlaps|"
                           r"undefined symbol|not supported|not enough|no compatible|unexpected(?:ly)?|sorry|lacks|"
                           r"does not support|fatal|abort(?:ed|ing)?|crash(?:ed)?|denied|refused|no such file|not found|"
                           r"too (?:small|large|big|old)|exit(?:ed)?(?: with)? (?:status|code):? [1-9]\d*)\b"
                           r"|, expected\b")
LEVELS = ("debug", "info", "warn", "error")
_LEADING_WORD = re.compile(r"(\w+): ")


def errno_name(value: int) -> str:
    return errno.errorcode.get(abs(value), f"errno {abs(value)}")


def leading_word(message: str) -> str:
    """The word a line starts with before a colon (a tool's "error: …", apt's "E: …"); "" for none."""
    word = _LEADING_WORD.match(message)
    return word[1] if word else ""


def level_from_words(message: str, level: str) -> str:
    """The level a line's words say, never below the one it was logged at."""
    said = "warn" if WARNING_WORDS.search(message) else "error" if FAILURE_WORDS.search(message) else level
    return max(level, said, key=LEVELS.index)

