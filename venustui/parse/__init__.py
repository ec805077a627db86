"""From raw lines to records: which format a line is in, what it says, which fields it carries.

The parser keeps a little state per source and stream (the ``vn_env`` block's tab-continued lines
belong to the header before them); everything else is a function of the line alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from sys import intern

from venustui.config import UserRule
from venustui.events import Line, Record
from venustui.parse import envelope, families, venus_flags, vkresult
from venustui.parse import rules as R
from venustui.parse.shapes import (
    HEX_IN_TEXT,
    SHAPE_FORMATS,
    SHAPE_PREFIXES,
    STAND_IN,
    Parts,
    ShapePlan,
    put_back,
    shape_plan,
)
from venustui.parse.text import decode, find_handles

MATCH_LIMIT = 1 << 16  # rules look at the first 64 KiB of a line; the record keeps all of it
SEEN_LINE_LIMIT = 512  # lines up to this long are remembered once parsed ...
SEEN_LIMIT = 8192  # ... this many at a time
CATCH_ALL_KINDS = families.WORDED_KINDS | {"mention"}  # records that say only which program or component spoke
PAYLOADS_LIMIT = 32768  # payloads inside envelopes remembered at a time (stamps make lines unique, not payloads)
# Fields of [VKR] prints that name the role of the handle they hold.
ROLE_KEYS = {"fence": "fence", "device": "device", "queue": "queue", "instance": "instance",
             "physicalDevice": "physdev", "memory": "memory", "buffer": "buffer", "semaphore": "semaphore"}


def _with_roles(fmt: str, what: str, text: str, level: str, fields: dict, handles: tuple[int, ...]) -> Parts:
    """The parts with the role of each handle where the line tells it (fence, device, buffer...), else None."""
    if not handles:
        return fmt, what, text, level, fields, handles, ()
    roles: dict[int, str] = {}
    if fmt == "vkr":
        for name, value in fields.items():
            role = ROLE_KEYS.get(name)
            if role and value.__class__ is str and value.startswith("0x"):
                try:
                    roles[int(value, 16)] = role
                except ValueError:
                    pass
    elif fmt == "step" and "handle" in fields:
        roles[fields["handle"]] = fields["role"]
    elif "objects" in fields:
        for value, kind in fields["objects"]:
            roles[value] = kind.removeprefix("VK_OBJECT_TYPE_").lower()
    return fmt, what, text, level, fields, handles, tuple(map(roles.get, handles))


class Parser:
    """Turns Line events into Records; one instance per session (it keeps per-stream state)."""

    def __init__(self, user_rules: Iterable[UserRule] = (), mesa_version: str | None = None):
        self.user_rules = tuple(user_rules)
        self.user_families = tuple(map(families.user_family, self.user_rules))
        self.mesa_version = venus_flags.parse_version(mesa_version) if mesa_version else None
        self._env_block: set[tuple[str, str]] = set()
        self._behind_stamp = False  # parsing what follows a kernel stamp (_kernel_line): no deeper
        # Traces repeat lines exactly (half the tracked lines of a poll loop): what a line says
        # outside a vn_env block depends on its bytes alone, so it is parsed once. The parts are
        # shared between records and never changed after parsing.
        self._seen: dict[bytes, tuple[Parts, ...]] = {}
        # How to make the parts of a line of each shape (its text between handles), False for a
        # shape whose parts depend on its handle values in another way than holding them.
        self._shapes: dict[tuple[str, ...], tuple[ShapePlan, ...] | bool] = {}
        # What the payload inside an envelope says, by payload, program and level (_understand).
        self._payloads: dict[tuple, tuple | None] = {}
        self._structured = {"mesa": self._mesa_line, "vkr": self._vkr_line, "vkr-server": self._server_line,
                            "vtest": lambda key, text, head: self._rules_line(families.VTEST, text, head),
                            "ldso": lambda key, text, head: self._rules_line(families.LDSO, text, head),
                            "mvk": self._mvk_line, "step": self._step_line, "kernel": self._kernel_line}

    def parse(self, line: Line) -> list[Record]:
        return [Record(line, *parts) for parts in self.parts(line.source, line.stream, line.data)]

    def parts(self, source: str, stream: str, data: bytes) -> tuple[Parts, ...]:
        """What a line of this source and stream says, as Record fields after the line: a replay's
        helper process parses with this and sends the tuples (no Line or Record needed)."""
        key = (source, stream)
        if key in self._env_block:
            text = decode(data)
            head = text if len(text) <= MATCH_LIMIT else text[:MATCH_LIMIT]
            field = R.ENV_FIELD.match(head)
            if not field:  # the block's lines behind the same stamps as its header (the envelope takes the tab)
                wrapped = envelope.peel(head)
                field = R.ENV_FIELD_PEELED.match(head, wrapped.at) if wrapped.forms else None
            if field:
                return ((*self._env_field(text, field.group("key"), field.group("value")), ()),)
            self._env_block.discard(key)
        seen = self._seen.get(data)
        if seen is not None:
            return seen
        text = decode(data)
        if len(data) > SEEN_LINE_LIMIT:
            return self._parse_text(key, text)
        if text.startswith(SHAPE_PREFIXES) and "0x" in text and not self.user_rules and STAND_IN not in text:
            parts = self._parse_by_shape(key, text)
        else:
            parts = self._parse_text(key, text)
        if key not in self._env_block:  # a vn_env header changes state
            if len(self._seen) >= SEEN_LIMIT:
                self._seen.clear()
            self._seen[data] = parts
        return parts

    def _parse_by_shape(self, key: tuple[str, str], text: str) -> tuple[Parts, ...]:
        """A line parsed as the first line of its shape was, with its own handles. That first line is
        parsed as it is and as its shape (handles replaced by stand-ins); the shape is used for the
        lines after it only if putting the handles back gives the same parts."""
        pieces = R.HANDLE_SPLIT.split(text)
        handles = pieces[1::2]
        values = [int(handle, 16) for handle in handles]
        # A value twice (or spelled two ways, "0x0" beside a handle "0x0000"): its role depends on which one
        # is meant, so the line is parsed as it is.
        if len(set(values)) < len(values) or (
                "0x" in "".join(pieces[0::2]) and set(values) & {int(x, 16) for x in HEX_IN_TEXT.findall("".join(pieces[0::2]))}):
            return self._parse_text(key, text)
        shape = tuple(pieces[0::2])
        known = self._shapes.get(shape)
        if known:
            return put_back(known, text, handles, values)
        parts = self._parse_text(key, text)
        if known is None and all(p[0] in SHAPE_FORMATS for p in parts):
            if len(self._shapes) >= SEEN_LIMIT:
                self._shapes.clear()
            pieces[1::2] = [f"{STAND_IN}{n:08x}" for n in range(len(handles))]
            shape_text = "".join(pieces)
            plan = shape_plan(self._parse_text(key, shape_text), shape_text)
            agrees = plan is not None and put_back(plan, text, handles, values) == parts
            self._shapes[shape] = plan if agrees else False
        return parts

    def _parse_text(self, key: tuple[str, str], text: str) -> tuple[Parts, ...]:
        return tuple(_with_roles(*parts) for parts in self._understand(key, text))

    def _understand(self, key: tuple[str, str], text: str) -> tuple[tuple, ...]:
        """A line's records without the roles of their handles: the line as it is, else its payload
        inside its envelope, else a family's marker glued after other text."""
        head = text if len(text) <= MATCH_LIMIT else text[:MATCH_LIMIT]
        for family in self.user_families:
            ((pattern, what, level),) = family.rules
            match = pattern.search(head)
            if match:
                fields = {k: v for k, v in match.groupdict().items() if v is not None}
                return ((family.name, what, text, level, fields, find_handles(head)),)
        # Anchored rules on the line as it is, then on its payload once its envelope is peeled, then from a
        # marker glued after other text; only then the families that search a payload for their pattern.
        parts = self._payload(key, text, head)
        if parts is not None:
            return parts
        wrapped = envelope.peel(head)
        if not wrapped.forms:
            inside = self._inside(key, text, head, wrapped)
        else:
            # Stamps change from line to line, payloads repeat: what a payload says depends on it, on the
            # program and level its envelope names, and on nothing else (parsed once, like a whole line).
            payload = head[wrapped.at:wrapped.end]
            remembered = (key, payload, wrapped.fields.get("prog"), wrapped.fields.get("level"))
            inside = self._payloads.get(remembered, False)
            if inside is False:
                inside = self._inside(key, text, head, wrapped)
                if len(payload) <= SEEN_LINE_LIMIT and key not in self._env_block:
                    if len(self._payloads) >= PAYLOADS_LIMIT:
                        self._payloads.clear()
                    self._payloads[remembered] = inside
        if inside is None:
            return (("text", "text", text, "info", {}, find_handles(head)),)
        parts, glued_after = inside
        if not (wrapped.forms or glued_after):
            return tuple((fmt, what, text, level, fields, handles) for fmt, what, _, level, fields, handles in parts)
        # The envelope's time, program, pid and level join each record's fields.
        extra = dict(wrapped.fields)
        if "level" in extra:
            extra["log_level"] = extra.pop("level")
            parts = families.at_least_as_bad_as_said(parts, extra["log_level"])
        if glued_after:
            extra["before"] = glued_after
        return tuple((fmt, what, text, level, {**extra, **fields}, handles)
                     for fmt, what, _, level, fields, handles in parts)

    def _inside(self, key: tuple[str, str], text: str, head: str,
                wrapped: envelope.Envelope) -> tuple[tuple[tuple, ...], str] | None:
        inside = self._inside_payload(key, text, head, wrapped)
        if wrapped.forms[-1:] == ("stamped-level-word",) and (inside is None or inside[0][0][1] in CATCH_ALL_KINDS):
            # the level word may be the payload's own ("WARNING: CPU: …"): read with it, unless that says no more
            level = wrapped.fields["level"]
            fields = {k: v for k, v in wrapped.fields.items() if k != "level"}
            own = self._inside_payload(key, text, head, wrapped._replace(
                at=head.rindex(level, 0, wrapped.at), forms=wrapped.forms[:-1], fields=fields))
            if own is not None and own[0][0][1] not in CATCH_ALL_KINDS:
                return own
        return inside

    def _inside_payload(self, key: tuple[str, str], text: str, head: str,
                        wrapped: envelope.Envelope) -> tuple[tuple[tuple, ...], str] | None:
        """The records of the payload inside a line's envelope (its fields not yet joined), and the text
        before a family's marker glued after other output ("" for none); None for none. Only the payload
        decides them (with the envelope's program and level), never the rest of the line."""
        payload = head[wrapped.at:wrapped.end]
        if wrapped.kernel_at and "prog" not in wrapped.fields and wrapped.end is None:
            # a dmesg line inside other layers (indented, quoted, a container's prefix): read as it is bare, stamp
            # and all (the kernel's own rules, and another program's line behind the stamp)
            parts = self._payload(key, text, head[wrapped.kernel_at:])
            if parts is not None:
                return parts, ""
        if wrapped.forms:
            parts = self._payload(key, text, payload, families.prints_steps(wrapped.fields.get("prog")))
            if parts is not None:
                return parts, ""
        if envelope.starts_with_marker(payload):  # qemu-system-x86_64: virtio_gpu_virgl_process_cmd: …
            parts = families.recognise(text, payload, wrapped, program_message=False)
            if parts is not None and parts[0][1] not in families.WORDED_KINDS:  # a catch-all: glue may know more
                return parts, ""
        for glued in envelope.glued_positions(payload, 1):  # the first marker that starts a line of its family
            parts = (self._payload(key, text, payload[glued:])
                     or families.recognise(text, payload[glued:], wrapped, program_message=False))
            if parts is not None and parts[0][1] not in families.WHOLE_LINE_KINDS:
                return parts, payload[:glued]
        parts = families.recognise(text, payload, wrapped)
        if parts is not None:
            return parts, ""
        function = R.VN_FUNCTION_MESSAGE.search(payload) if "vn_" in payload else None
        if function:  # a Venus function's message after other output (my_app: vn_create_instance: failed)
            return (self._vn_message(text, payload[function.start():], function),), payload[:function.start()]
        # no rule knows it, but it names a component (in its payload, else in the program its envelope names: a
        # source file virtio_gpu.cc): that component's mention (the program is part of the payload cache's key)
        family = families.mentioned(payload) or families.mentioned(wrapped.fields.get("prog", ""))
        if family is not None:  # as bad as its envelope (level=error), a tool's first word (error: krun: …) or words say
            said = families.LOGGER_LEVELS.get(wrapped.fields.get("level") or R.leading_word(payload), "info")
            level = R.level_from_words(payload, said)
            return ((family.name, "mention", text, level, {"message": payload}, find_handles(payload)),), ""
        return None

    def _payload(self, key: tuple[str, str], text: str, head: str, steps: bool = True) -> tuple[tuple, ...] | None:
        """A payload's records by the structured families (the registry's order: those whose start it has,
        then those whose literal it holds anywhere); None for none. Without steps, a payload is never a guest
        program's loosely shaped step ("submit failed": its envelope names a program that prints none)."""
        for family in families.STARTING.get(head[:1], ()):
            if family is families.STEP and not steps:
                continue
            if family.starts_line(head):
                parts = self._by_family(family, key, text, head)
                if parts is not None:
                    return parts
        if families.ANYWHERE_LITERALS.search(head):
            for family, holds in families.ANYWHERE_SEARCH:
                if holds(head):
                    parts = self._by_family(family, key, text, head)
                    if parts is not None:
                        return parts
        if head.startswith("vn_"):  # Venus's own lines, without Mesa's prefix (a pasted log)
            mesa = self._mesa_rules(key, text, head, None)
            if mesa is not None:
                return (mesa,)
            function = R.VN_FUNCTION_MESSAGE.match(head)
            if function:  # "vn_ring_submit_command: ring is fatal": a message of that function
                return (self._vn_message(text, head, function),)
        return None

    @staticmethod
    def _vn_message(text: str, message: str, function) -> Parts:
        return ("mesa", "message", text, R.level_from_words(message, "info"),
                {"message": message, "fn": function.group("fn")}, find_handles(message))

    def _by_family(self, family, key, text, head):
        """A line of this family: split by the family's own code where it has some, else by its rules."""
        structured = self._structured.get(family.name)
        if structured is not None:
            return structured(key, text, head)
        parts = families.apply(family, text, head)
        return (parts,) if parts is not None else None

    # the structured families, each a line's records or None -------------------------------------------
    def _mesa_line(self, key, text, head):
        prefix = R.MESA_PREFIX.match(head)
        return (self._mesa(key, text, prefix),) if prefix else None

    def _vkr_line(self, key, text, head):
        vkr = R.VKR_PRINT.match(head)
        return (self._vkr_print(text, vkr),) if vkr else None

    def _server_line(self, key, text, head):
        server = R.SERVER_LINE.match(head)
        return self._server(text, server) if server else None

    def _mvk_line(self, key, text, head):
        mvk = R.MVK.match(head)
        if not mvk:
            return None
        fields = {"message": mvk.group("msg"), **vkresult.error_result_in(mvk.group("msg"))}
        return (("mvk", mvk.group("mvk_level"), text, R.MVK_LEVELS[mvk.group("mvk_level")], fields, find_handles(head)),)

    def _step_line(self, key, text, head):
        if head[:1].isdigit():
            step = R.STEP.match(head)
            if step:
                return (self._step(text, step, head),)
        elif head[:1].islower():
            progress = R.PROGRESS.match(head)
            if progress:
                return (self._progress(text, progress, head),)
        parts = families.apply(families.STEP, text, head)
        return (parts,) if parts is not None else None

    def _rules_line(self, family, text, head):
        parts = self._first(family.rules, family.name, text, head)
        return (parts,) if parts is not None else None

    def _kernel_line(self, key, text, head):
        kernel = R.KERNEL.search(head)
        if not kernel:
            return None
        message = kernel.group("msg") or kernel.group("msg2") or kernel.group("msg3") or ""
        if envelope.behind_kernel_stamp(message) or families.OTHERS_BEHIND_STAMP.search(message):
            return None  # another family's line behind a kernel-like stamp: its envelope is peeled instead
        parts = families.apply(families.KERNEL, text, message)
        if parts is None:  # a program's output on the console between kernel lines, in a family of its own
            # (one level only: a stamp behind a stamp behind … is a hostile line, not a console)
            other = None
            if not self._behind_stamp:
                self._behind_stamp = True
                try:
                    other = self._payload(key, text, message, steps=False)
                finally:
                    self._behind_stamp = False
            other = other or families.recognise(text, message, envelope.NONE)
            parts = other[0] if other else None
        if parts is not None:
            fmt, what, text, level, fields, handles = parts
        else:
            fmt, what, level, fields = "kernel", "message", "error" if "*ERROR*" in head else "info", {
                "message": message}
        if kernel.group("ts"):
            fields["uptime"] = float(kernel.group("ts"))
        return ((fmt, what, text, level, fields, find_handles(head)),)

    # formats ------------------------------------------------------------------
    def _first(self, rules, fmt, text, head) -> Parts | None:
        for pattern, what, level in rules:
            match = pattern.search(head)
            if match:
                fields = {k: v for k, v in match.groupdict().items() if v is not None}
                if what in ("call_failed", "failure"):
                    ret = int(fields["ret"])
                    fields["ret"] = ret
                    fields["errno"] = R.errno_name(ret)
                if what == "version_not_found" and not fields.get("weak"):
                    level = "error"
                return (fmt, what, text, level, fields, find_handles(head))
        return None

    def _mesa(self, key: tuple[str, str], text: str, prefix) -> Parts:
        msg = prefix.group("msg")
        mesa_level = prefix.group("level")
        parts = self._mesa_rules(key, text, msg, mesa_level)
        if parts is not None:
            return parts
        level = {"warning": "warn", "error": "error", "info": "info"}.get(mesa_level or "", "debug")
        return ("mesa", "message", text, R.level_from_words(msg, level), {"message": msg}, find_handles(msg))

    def _mesa_rules(self, key: tuple[str, str], text: str, msg: str, mesa_level: str | None) -> Parts | None:
        for pattern, what, level in families.MESA.rules:
            match = pattern.match(msg)
            if match:
                fields = {k: v for k, v in match.groupdict().items() if v is not None}
                if what == "vn_env":
                    self._env_block.add(key)
                for name in ("iter", "fd", "ret", "errno", "guest", "host"):
                    if name in fields:
                        fields[name] = int(fields[name])
                if what == "result":
                    fields["code"] = vkresult.code_of(fields["result"])
                    if fields["code"] is not None and fields["code"] < 0:
                        level = "error"
                if what == "lost_connection":
                    fields["errno_name"] = R.errno_name(fields["errno"]) if fields["errno"] else ""
                fields["message"] = msg
                return ("mesa", what, text, level, fields, find_handles(msg))
        return None

    def _env_field(self, text: str, key: str, value: str) -> Parts:
        fields: dict = {"key": key, "value": value}
        if key in ("debug", "perf"):
            try:
                mask = int(value, 16)
            except ValueError:
                mask = None
            if mask is not None:
                variable = "VN_DEBUG" if key == "debug" else "VN_PERF"
                fields["mask"] = mask
                fields["names"] = venus_flags.decode_mask(variable, mask, self.mesa_version)
        return ("mesa", "vn_env_field", text, "debug", fields, ())

    def _vkr_print(self, text: str, match) -> Parts:
        fn = match.group("fn")
        rest = match.group("rest")
        name = fn[2:] if fn.startswith("vk") and fn[2:3].isupper() else fn
        # The first of a repeated key wins. Keys interned: a replay's helper sends a chunk's fields
        # with each key once (marshal refers back to the same object), and lookups compare pointers.
        fields: dict = {intern(key): value for key, value in reversed(R.KEY_VALUE.findall(rest))}
        fields["fn"] = name
        fields["message"] = rest
        at = rest.find("re")  # every spelling RETURNED knows starts so: no match can start before
        ret = R.RETURNED.search(rest, at) if at >= 0 else None
        level = "info"
        if ret:
            raw = ret.group("ret")
            code = vkresult.code_of(raw) if raw.startswith("VK_") else int(raw)
            if code is not None:
                fields["ret"] = code
                fields["result"] = vkresult.name_of(code)
                if code < 0:
                    level = "error"
        return ("vkr", "call", text, level, fields, find_handles(rest))

    def _server(self, text: str, match) -> tuple[Parts, ...]:
        base = {}
        if match.group("pid"):
            base = {"prog": match.group("prog"), "pid": int(match.group("pid"))}
        # Some versions log without newlines between messages: split on the prefix too.
        body = match.group("msg")
        messages = [m for m in R.SERVER_SPLIT.split(body) if m] if "vkr: " in body else [body] if body else []
        out = []
        for msg in messages or [""]:
            record = None
            for pattern, what, level in families.SERVER.rules:
                found = pattern.search(msg)
                if found:
                    fields = dict(base)
                    fields.update({k: v for k, v in found.groupdict().items() if v is not None})
                    for name in ("seqno", "wait", "ctx", "id", "ret", "fence_id", "size", "ring_size"):
                        if name in fields:
                            fields[name] = int(fields[name])
                    if what == "call_result" and fields["ret"] < 0:
                        level = "error"
                    if what == "validation":
                        fields["objects"] = [(int(o.group("handle"), 16), o.group("type"))
                                             for o in R.VALIDATION_OBJECT.finditer(msg)]
                        vuid = R.VUID.search(msg)
                        if vuid:
                            fields["vuid"] = vuid.group("vuid")
                        if fields["severity"] == "Error":
                            level = "error"
                    fields["message"] = msg
                    record = ("vkr-server", what, text, level, fields, find_handles(msg))
                    break
            if record is None:
                fields = dict(base, message=msg, **vkresult.error_result_in(msg))
                record = ("vkr-server", "message", text, R.level_from_words(msg, "info"), fields, find_handles(msg))
            out.append(record)
        return tuple(out)

    def _step(self, text: str, match, head: str) -> Parts:
        """A numbered step; its handles are the payload's (head), not an envelope's."""
        name = match.group("name").strip()
        role = R.step_role(name)
        fields: dict = {"num": int(match.group("num")), "name": name, "role": role}
        value = match.group("value")
        status = match.group("status")
        level = "info"
        if value is not None:
            value = value.strip()
            fields["value"] = value
            result, code = vkresult.result_from_value(value)
        else:
            fields["status"] = status
            tail = (match.group("detail") or match.group("tail") or "").strip()  # "Queue OK: 0x…", "Fence created …"
            if tail:
                fields["detail"] = tail
            failed = status.lower() == "failed"
            result, code = ("VK_ERROR_UNKNOWN", None) if failed else ("VK_SUCCESS", 0)
        if result is not None:
            fields["result"] = result
            fields["code"] = code
            if code is not None and code < 0 or result == "VK_ERROR_UNKNOWN":
                level = "error"
            elif code == 2:  # VK_TIMEOUT: the wait gave up
                level = "warn"
        handles = find_handles(head)
        if handles:
            fields["handle"] = handles[-1]
        return ("step", "step", text, level, fields, handles)

    def _progress(self, text: str, match, head: str) -> Parts:
        status = match.group("status").lower()
        fields = {"name": match.group("name"), "status": status}
        tail = (match.group("tail") or "").strip()
        if tail:
            fields["detail"] = tail
        return ("step", "progress", text, "error" if status == "failed" else "info",
                      fields, find_handles(head))
