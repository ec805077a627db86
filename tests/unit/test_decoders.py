"""The value decoders: known values from the headers, every table entry round-tripping in every spelling
the sign/range rule allows, arbitrary input never failing but as a one-line UserError, and decode --as
from the command line."""

from __future__ import annotations

import json
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from venustui import decoders as D
from venustui.errors import UserError

from ..conftest import ROOT, run_cli

CODES = tomllib.loads((ROOT / "venustui" / "knowledge" / "codes.toml").read_text(encoding="utf-8"))
KIND_OF = {"virtio-gpu": "virtio-gpu", "hv": "hv", "errno-linux": "errno", "errno-macos": "errno",
           "vkresult": "vkresult"}
PLATFORM_OF = {"errno-linux": "linux", "errno-macos": "macos"}
ENTRIES = [(table, code) for table, data in CODES.items() for code in data["codes"]]


@pytest.mark.parametrize(("text", "kind", "platform", "name", "table"), [
    ("0x209", "virtio-gpu", None, "RESOURCE_UNMAP_BLOB", "virtio-gpu"),
    ("521", "virtio-gpu", None, "RESOURCE_UNMAP_BLOB", "virtio-gpu"),
    ("0x204", "virtio-gpu", None, "RESOURCE_CREATE_3D", "virtio-gpu"),
    ("0x207", "virtio-gpu", None, "SUBMIT_3D", "virtio-gpu"),
    ("0x208", "virtio-gpu", None, "RESOURCE_MAP_BLOB", "virtio-gpu"),
    ("0x1200", "virtio-gpu", None, "ERR_UNSPEC", "virtio-gpu"),
    ("0x1205", "virtio-gpu", None, "ERR_INVALID_PARAMETER", "virtio-gpu"),
    ("-85377021", "hv", None, "HV_BAD_ARGUMENT", "hv"),
    ("0xfae94003", "hv", None, "HV_BAD_ARGUMENT", "hv"),
    ("0xfae9400f", "hv", None, "HV_UNSUPPORTED", "hv"),
    ("0", "hv", None, "HV_SUCCESS", "hv"),
    ("14", "errno", None, "EFAULT", "errno-linux"),
    ("14", "errno", "linux", "EFAULT", "errno-linux"),
    ("35", "errno", "macos", "EAGAIN", "errno-macos"),
    ("35", "errno", "linux", "EDEADLK", "errno-linux"),
    ("35", "errno", None, "EDEADLK", "errno-linux"),
    ("-22", "errno", None, "EINVAL", "errno-linux"),
    ("22", "errno", None, "EINVAL", "errno-linux"),
    ("0xffffffea", "errno", None, "EINVAL", "errno-linux"),
    ("-3", "vkresult", None, "VK_ERROR_INITIALIZATION_FAILED", "vkresult"),
    ("0xfffffffd", "vkresult", None, "VK_ERROR_INITIALIZATION_FAILED", "vkresult"),
    ("-4", "vkresult", None, "VK_ERROR_DEVICE_LOST", "vkresult"),
    ("0", "vkresult", None, "VK_SUCCESS", "vkresult"),
])
def test_known_values(text, kind, platform, name, table):
    decoded = D.decode(text, kind, platform)
    assert (decoded.name, decoded.table, decoded.kind) == (name, table, kind)
    assert decoded.meaning and "\n" not in decoded.meaning


def test_values_and_notes():
    assert D.decode("-85377021", "hv").value == 0xFAE94003
    assert D.decode("-22", "errno").value == 22
    assert D.decode("0xfffffffd", "vkresult").value == -3
    note = D.decode("35", "errno").note
    assert note.startswith("Linux numbering; macOS would be EAGAIN")
    assert D.decode("35", "errno", "macos").note == "also spelled EWOULDBLOCK"  # a platform named: no comparison
    assert D.decode("14", "errno").note is None  # both number EFAULT 14
    assert "macOS has no errno 120" in D.decode("120", "errno").note
    assert D.decode("0xfae94008", "hv").note == "also spelled HV_FAULT"


def test_unknown_values_are_named_unknown():
    for text, kind in [("0x20a", "virtio-gpu"), ("0xfae94009", "hv"), ("0", "errno"), ("999", "errno"),
                       ("-14", "vkresult"), ("0xdeadbeef", "virtio-gpu")]:
        decoded = D.decode(text, kind)
        assert decoded.name is None and decoded.meaning == f"unknown {kind} value", (text, kind)
    assert "3D/blob command range" in D.decode("0x20a", "virtio-gpu").note
    assert "error range" in D.decode("0xfae94009", "hv").note


def test_inline_and_describe():
    assert D.inline("0x209", "virtio-gpu") == "0x209 (RESOURCE_UNMAP_BLOB)"
    assert D.inline(" -85377021 ", "hv") == "-85377021 (HV_BAD_ARGUMENT)"
    assert D.inline("35", "errno", "macos") == "35 (EAGAIN)"
    assert D.inline("0x20a", "virtio-gpu") == "0x20a (unknown virtio-gpu value)"
    line = D.describe(D.decode("0x209", "virtio-gpu"))
    assert line.startswith("0x209  virtio-gpu  RESOURCE_UNMAP_BLOB — unmap a blob resource")
    assert line.endswith("(Linux uapi virtio_gpu.h, v6.15)")
    assert D.inline(" fence ", "hv") == "fence"  # a garbled log value stays as it is, unannotated
    with pytest.raises(UserError):
        D.inline("1", "handle")


@pytest.mark.parametrize(("text", "kind", "platform", "says"), [
    ("fence", "hv", None, "'fence'"),
    ("0x1ffffffff", "virtio-gpu", None, "out of range for a 32-bit"),
    ("-0x80000001", "vkresult", None, "out of range"),
    ("", "errno", None, "not a system error number"),
    ("1", "handle", None, "not a kind"),
    ("1", "errno", "windows", "not a platform"),
])
def test_bad_input_is_one_line(text, kind, platform, says):
    with pytest.raises(UserError) as caught:
        D.decode(text, kind, platform)
    message = str(caught.value)
    assert says in message and len(message.splitlines()) == 1


def test_every_table_names_its_source():
    for table, data in CODES.items():
        assert data["source"] and data["cite"] and data["codes"], table
        assert D.source(table) == data["source"]
        values = [D._key(KIND_OF[table], code["value"]) for code in data["codes"]]
        assert len(values) == len(set(values)), f"{table} lists a value twice"


@settings(deadline=None)
@given(st.sampled_from(ENTRIES), st.data())
def test_every_entry_round_trips(entry, data):
    table, code = entry
    kind, platform, value = KIND_OF[table], PLATFORM_OF.get(table), code["value"]
    unsigned = value & 0xFFFFFFFF
    spellings = [str(value), f"0x{unsigned:x}", str(unsigned)]
    if kind == "hv":
        spellings.append(str(value - (1 << 32) if value >> 31 else value))  # the signed decimal logs print
    if kind == "errno":
        spellings.append(str(-value))  # the kernel's -errno
    text = data.draw(st.sampled_from(spellings))
    decoded = D.decode(text, kind, platform)
    assert (decoded.name, decoded.table) == (code["name"], table), text
    assert decoded.meaning == code["meaning"]
    assert D.inline(text, kind, platform) == f"{text} ({code['name']})"


@settings(deadline=None)
@given(st.integers(), st.sampled_from(D.KINDS), st.sampled_from([None, *D.PLATFORMS]))
def test_any_integer_decodes_or_is_out_of_range(number, kind, platform):
    in_range = -(1 << 31) <= number < (1 << 32)
    for text in (str(number), hex(number)):
        try:
            decoded = D.decode(text, kind, platform)
        except UserError as exc:
            assert not in_range and "out of range" in str(exc) and len(str(exc).splitlines()) == 1
            continue
        assert in_range
        if decoded.name is None:
            assert decoded.meaning == f"unknown {kind} value"
        else:
            assert decoded.meaning != f"unknown {kind} value"


@settings(deadline=None)
@given(st.text(), st.sampled_from([*D.KINDS, "handle", ""]), st.sampled_from([None, *D.PLATFORMS, "bsd"]))
def test_any_text_gives_a_value_or_a_one_line_user_error(text, kind, platform):
    if kind in D.KINDS and platform in (None, *D.PLATFORMS):
        assert D.inline(text, kind, platform).startswith(text.strip())  # findings never fail on a value
    try:
        decoded = D.decode(text, kind, platform)
    except UserError as exc:
        assert len(str(exc).splitlines()) == 1, str(exc)
        return
    assert decoded.kind == kind and isinstance(decoded.value, int)
    assert decoded.name is not None or decoded.meaning == f"unknown {kind} value"


def test_cli_decodes_a_signed_hv_value():
    out = run_cli("decode", "--as", "hv", "--", "-85377021")
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().startswith("0xfae94003  hv  HV_BAD_ARGUMENT — ")
    assert out.stdout.decode().count("\n") == 1


def test_cli_json_and_platform():
    out = run_cli("decode", "--as", "errno", "--platform", "macos", "--json", "35", "-22")
    assert out.returncode == 0, out.stderr
    first, second = json.loads(out.stdout)
    assert set(first) == {"value", "kind", "name", "meaning", "table", "note"}
    assert (first["name"], first["table"], second["name"], second["value"]) == ("EAGAIN", "errno-macos", "EINVAL", 22)
    one = json.loads(run_cli("decode", "--as", "virtio-gpu", "--json", "0x209").stdout)
    assert one["name"] == "RESOURCE_UNMAP_BLOB" and one["value"] == 0x209


@pytest.mark.parametrize("args", [
    ("decode", "--as", "hv", "fence"),
    ("decode", "--as", "vkresult", "--", "-0x80000001"),
    ("decode", "--as", "hv", "--platform", "macos", "0"),
    ("decode", "--as", "errno", "--log", "x.log", "5"),
    ("decode", "--as", "nonsense", "5"),
])
def test_cli_bad_input_is_one_line_and_exit_2(args):
    out = run_cli(*args)
    err = out.stderr.decode()
    assert out.returncode == 2 and out.stdout == b""
    assert len(err.splitlines()) == 1 and "Traceback" not in err and err.startswith("venustui")
