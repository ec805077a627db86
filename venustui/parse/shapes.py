"""Line shapes: a line's text between its handles. Traces repeat lines with fresh pointers, so the parser
parses each shape once (handles replaced by numbered stand-ins) and makes the parts of later lines of that
shape from a plan (``shape_plan``) with their own handles put back (``put_back``)."""

from __future__ import annotations

import re

from venustui.parse import families
from venustui.parse import rules as R

Parts = tuple  # a Record's fields after its line: (fmt, what, text, level, fields, handles, roles)
# Lines of these formats say the same whatever their handle values: traces repeat them with fresh
# pointers, so each shape (handles replaced by numbered stand-ins) is parsed once.
HEX_IN_TEXT = re.compile(r"0x([0-9a-fA-F]+)")
SHAPE_FORMATS = frozenset(family.name for family in families.FAMILIES if family.shaped)
SHAPE_PREFIXES = tuple(start.pattern for family in families.FAMILIES if family.shaped for start in family.starts)
STAND_IN = "0x5eed5eed"  # a stand-in is this and 8 hex digits of its number: a handle of 16 digits


ShapePlan = tuple  # per record: (fmt, what, level, fields with stand-ins, [(name, handle index or template)], slots,
#                    roles)


def shape_plan(shaped: tuple[Parts, ...], shape_text: str) -> tuple[ShapePlan, ...] | None:
    """How to make a line's parts from its handles, learned from its shape's parts; None when the
    parts depend on the handles in another way than holding them."""
    plan = []
    for fmt, what, text, level, fields, handles, roles in shaped:
        if text != shape_text:
            return None
        dynamic: list[tuple[str, int | str]] = []
        for name, value in fields.items():
            if value.__class__ is str and STAND_IN in value:
                if R.HANDLE.fullmatch(value):
                    dynamic.append((name, int(value[len(STAND_IN):], 16)))
                else:
                    template = value.replace("{", "{{").replace("}", "}}")
                    dynamic.append((name, R.STAND_IN_SPLIT.sub(lambda m: "{%d}" % int(m.group(1), 16), template)))
        slots = []
        for value in handles:
            if value >> 32 != int(STAND_IN, 16):
                return None
            slots.append(value & 0xFFFFFFFF)
        plan.append((fmt, what, level, fields, dynamic, tuple(slots), roles))
    return tuple(plan)


def put_back(plan: tuple[ShapePlan, ...], text: str, handles: list[str], values: list[int]) -> tuple[Parts, ...]:
    """A line's parts from its shape's plan, with its own text and handles."""
    out = []
    for fmt, what, level, fields, dynamic, slots, roles in plan:
        fields = fields.copy()  # the shape's order of fields, each changed in place
        for name, how in dynamic:
            fields[name] = handles[how] if how.__class__ is int else how.format(*handles)
        out.append((fmt, what, text, level, fields, tuple(map(values.__getitem__, slots)), roles))
    return tuple(out)
