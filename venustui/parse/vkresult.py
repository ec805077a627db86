"""VkResult names and codes, read from the ``vulkan`` package's own constants.

The package's module dlopens the Vulkan loader on import, which a machine that
only reads logs may not have; so the constants are read from its source file
(the same definitions, without loading anything).
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

_CONSTANT = re.compile(r"^(VK_[A-Z0-9_]+) = (-?\d+|None)$", re.M)
_EXCEPTION_CODE = re.compile(r"^\s+(-?\d+|None):(Vk\w+),$", re.M)


def _snake(class_name: str) -> str:
    """VkErrorOutOfHostMemory -> VK_ERROR_OUT_OF_HOST_MEMORY."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).upper()


@functools.cache
def table() -> dict[int, str]:
    """code -> name for every VkResult the package knows (VK_SUCCESS included)."""
    spec = importlib.util.find_spec("vulkan")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'vulkan' package is not installed (pip install vulkan)")
    source = Path(next(iter(spec.submodule_search_locations)), "_vulkan.py").read_text(encoding="utf-8")
    constants: dict[str, int | None] = {}
    for name, value in _CONSTANT.findall(source):
        constants.setdefault(name, None if value == "None" else int(value))
    result = {constants["VK_SUCCESS"]: "VK_SUCCESS"}
    block = source[source.index("exception_codes = {"):]
    block = block[: block.index("}")]
    for _code, class_name in _EXCEPTION_CODE.findall(block):
        name = _snake(class_name)
        if name not in constants:  # class names fold acronyms: VkErrorInvalidShaderNv
            name = next((n for n in constants if n.replace("_", "") == name.replace("_", "")), name)
        value = constants.get(name)
        if value is None:  # an alias spelled VK_X_EXT = None; the core name has the value
            name = re.sub(r"_(KHR|EXT|NV)$", "", name)
            value = constants.get(name)
        if value is None:
            continue
        # The package's generator drops the sign of some extension error codes;
        # every VK_ERROR_* is negative by the Vulkan spec.
        if name.startswith("VK_ERROR_") and value > 0:
            value = -value
        result.setdefault(value, name)
    return result


@functools.cache
def codes() -> dict[str, int]:
    return {name: code for code, name in table().items()}


def name_of(code: int) -> str:
    name = _NAMES.get(code)
    if name is None:
        _NAMES.update(table())
        name = _NAMES.get(code, f"VkResult({code})")
    return name


_NAMES: dict[int, str] = {}


def code_of(name: str) -> int | None:
    """Accepts VK_NOT_READY, NOT_READY or VkNotReady."""
    if name.startswith("Vk") and not name.startswith("VK_"):
        name = _snake(name)
    if not name.startswith("VK_"):
        name = "VK_" + name
    return codes().get(name.upper())


def is_error(code: int) -> bool:
    return code < 0
