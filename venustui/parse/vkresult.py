"""VkResult names and codes, from the one table the package carries (knowledge/codes.toml's `vkresult`,
written from vulkan_core.h; ``decoders`` reads it). The `vulkan` Python package's constants were the source
before: several of its codes disagree with the header (VK_ERROR_NOT_PERMITTED_KHR, the sign of
VK_INCOMPATIBLE_SHADER_BINARY_EXT), and reading them meant finding its source file."""

from __future__ import annotations

import functools
import re

from venustui import decoders


def _snake(class_name: str) -> str:
    """VkErrorOutOfHostMemory -> VK_ERROR_OUT_OF_HOST_MEMORY."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).upper()


@functools.cache
def table() -> dict[int, str]:
    """code -> name for every VkResult (VK_SUCCESS included)."""
    return {value: entry.name for value, entry in decoders.tables()["vkresult"].entries.items()}


@functools.cache
def codes() -> dict[str, int]:
    """name -> code, the header's aliases (the _KHR and _EXT spellings) included."""
    out = {}
    for value, entry in decoders.tables()["vkresult"].entries.items():
        for name in (entry.name, *entry.aliases):
            out.setdefault(name, value)
    return out


def name_of(code: int) -> str:
    return table().get(code, f"VkResult({code})")


def code_of(name: str) -> int | None:
    """Accepts VK_NOT_READY, NOT_READY or VkNotReady."""
    if name.startswith("Vk") and not name.startswith("VK_"):
        name = _snake(name)
    if not name.startswith("VK_"):
        name = "VK_" + name
    return codes().get(name.upper())


def is_error(code: int) -> bool:
    return code < 0


_ERROR_NAME = re.compile(r"\bVK_ERROR_[A-Z0-9_]+\b")


def error_result_in(message: str) -> dict:
    """The VkResult error a free-form message names (MoltenVK's "VK_ERROR_…: …", a render server's "failed to …:
    VK_ERROR_…"), as a record's result and code; {} for none."""
    found = _ERROR_NAME.search(message) if "VK_ERROR_" in message else None
    code = code_of(found.group()) if found else None
    return {"result": found.group(), "code": code} if code is not None else {}


RESULT_IN_VALUE = re.compile(r"\((?P<name>VK_[A-Z0-9_]+)\)")


def result_from_value(value: str) -> tuple[str | None, int | None]:
    """A step's value as printed by a test: '0  (VK_SUCCESS)', '1', 'None', 'NOT_READY', 'VkTimeout'."""
    value = value.strip()
    explicit = RESULT_IN_VALUE.search(value)
    if explicit:
        name = explicit.group("name")
        return name, code_of(name)
    words = value.split()
    if len(words) > 1 and words[0] in ("FAILED", "failed", "Failed"):  # "FAILED -3": the number is the VkResult
        words = words[1:]
    head = words[0] if words else ""
    if head in ("None", "OK", "ok"):
        return "VK_SUCCESS", 0
    try:
        code = int(head)
    except ValueError:
        code = code_of(head) if head else None
        return (name_of(code), code) if code is not None else (None, None)
    return name_of(code), code
