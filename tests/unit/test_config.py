"""Config: locations, sections, and one-line errors naming the file, the key and the fix."""

import pytest

from venustui import config
from venustui.errors import UserError

from ..conftest import run_cli


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_valid_config(tmp_path):
    cfg = config.load(write(tmp_path, '''
sources = ["host=/var/log/h.log", "guest=cmd:ssh guest dmesg -w"]
[parse]
mesa_version = "24.0"
[[rules]]
name = "my-print"
pattern = '^\\[MY\\] (?P<fn>\\w+)'
level = "warn"
'''))
    assert cfg.sources == ("host=/var/log/h.log", "guest=cmd:ssh guest dmesg -w")
    assert cfg.mesa_version == "24.0"
    assert cfg.rules[0].name == "my-print" and cfg.rules[0].pattern.match("[MY] Foo")


def test_default_location_and_absence(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config.default_path() == tmp_path / "venustui" / "config.toml"
    assert config.load() == config.Config()
    (tmp_path / "venustui").mkdir()
    (tmp_path / "venustui" / "config.toml").write_text('sources = ["a.log"]\n')
    assert config.load().sources == ("a.log",)


@pytest.mark.parametrize("text, message", [
    ("sources = [", "not valid TOML"),
    ("colour = 'red'\n", "unknown key 'colour'"),
    ("sources = 'a.log'\n", "sources must be a list"),
    ("[parse]\nmesa = '24'\n", "unknown key 'parse.mesa'"),
    ("[parse]\nmesa_version = 24\n", "parse.mesa_version must be a string"),
    ("[[rules]]\nname = 'r'\npattern = '(unclosed'\n", "rules[0] (r): invalid regex"),
    ("[[rules]]\nname = 'r'\n", "rules[0] (r): pattern must be"),
    ("[[rules]]\nname = 'r'\npattern = 'x'\nlevel = 'loud'\n", "level must be one of"),
    ("[[rules]]\nname = 'r'\npattern = 'x'\n[[rules]]\nname = 'r'\npattern = 'y'\n", "used twice"),
])
def test_bad_config_is_one_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(UserError) as err:
        config.load(path)
    assert message in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


def test_bad_config_stops_start_up_without_traceback(tmp_path):
    path = write(tmp_path, "[[rules]]\nname = 'r'\npattern = '(x'\n")
    out = run_cli("--config", str(path), "decode", "0x1")
    assert out.returncode == 2
    err = out.stderr.decode()
    assert err.count("\n") == 1 and "invalid regex" in err and "Traceback" not in err
    missing = run_cli("--config", str(tmp_path / "nope.toml"), "decode", "0x1")
    assert missing.returncode == 2 and b"no such file" in missing.stderr


def test_config_sources_and_rules_drive_watch(tmp_path):
    log = tmp_path / "custom.log"
    log.write_text("[MY] CreateThing 0x5000001234\n")
    path = write(tmp_path, f'''
sources = ["mine={log}"]
[[rules]]
name = "my-print"
pattern = '^\\[MY\\] (?P<fn>\\w+)'
''')
    out = run_cli("--config", str(path), "watch", "--no-follow")
    assert out.returncode == 0, out.stderr
    assert b"user:my-print" in out.stdout


def test_config_folder_without_permission(tmp_path, monkeypatch):
    """The default location under a folder we may not enter is a one-line error, not a traceback."""
    import os
    import subprocess
    import sys

    folder = tmp_path / "cfg"
    (folder / "venustui").mkdir(parents=True)
    os.chmod(folder, 0o700)
    os.chmod(tmp_path, 0o755)
    drop = "os.setgroups([]); os.setgid(65534); os.setuid(65534); " if os.geteuid() == 0 else ""
    os.chmod(folder, 0o000) if not drop else None
    code = ("import os, sys; from venustui.cli import main; " + drop + "sys.exit(main(['decode', '0x1']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         env={**os.environ, "XDG_CONFIG_HOME": str(folder)}, timeout=60)
    os.chmod(folder, 0o700)
    assert out.returncode == 2 and b"permission denied" in out.stderr and b"Traceback" not in out.stderr
