"""Legacy settings.conf is parsed (never executed) and mapped onto our settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from repotrack.errors import ConfigError
from repotrack.legacy_settings import legacy_to_settings, parse_settings_conf

SAMPLE = """\
# server settings
LISTEN = "127.0.0.1:5001"

GITHUB_ACCESS_TOKEN = ""
GITEE_ACCESS_TOKEN = " gitee-token "
SCAN_DB_INTERVAL = 3600
USER = "admin"
PASSWORD = "pbkdf2:sha256:150000$abcdefgh$00"
"""


def test_parse_and_map(tmp_path: Path) -> None:
    path = tmp_path / "settings.conf"
    path.write_text(SAMPLE)
    values = parse_settings_conf(path)
    assert values["GITEE_ACCESS_TOKEN"] == "gitee-token"
    tree = legacy_to_settings(values, source=str(path))
    assert tree == {
        "service": {
            "listen": "127.0.0.1:5001",
            "user": "admin",
            "password_hash": "pbkdf2:sha256:150000$abcdefgh$00",
        },
        "forges": {"gitee": {"token": "gitee-token"}},
        "tracking": {"scan_interval": 3600},
    }


@pytest.mark.parametrize(
    "line",
    [
        "import os",
        'LISTEN = __import__("os").system("touch /tmp/pwned")',
        "LISTEN = f'{1}'",
        "USER = ['a']",
        "not a line",
    ],
)
def test_code_is_never_run(tmp_path: Path, line: str) -> None:
    path = tmp_path / "settings.conf"
    path.write_text(line + "\n")
    with pytest.raises(ConfigError, match=r"settings\.conf"):
        parse_settings_conf(path)


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"LISTEN": "1.2.3.4"}, "listen"),
        ({"SCAN_DB_INTERVAL": 0}, "SCAN_DB_INTERVAL"),
        ({"SCAN_DB_INTERVAL": "soon"}, "SCAN_DB_INTERVAL"),
        ({"OTHER": "x"}, "unknown key OTHER"),
    ],
)
def test_bad_values(values: dict[str, str | int], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        legacy_to_settings(values, source="settings.conf")


def test_ipv6_and_hostname_listen() -> None:
    tree = legacy_to_settings({"LISTEN": "[::1]:5001"}, source="s")
    assert tree["service"]["listen"] == "[::1]:5001"
    tree = legacy_to_settings({"LISTEN": "tracker.local:5001"}, source="s")
    assert tree["service"]["listen"] == "tracker.local:5001"
