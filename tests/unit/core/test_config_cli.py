"""``repotrack config show`` redacts secrets; ``config import-legacy`` converts settings.conf."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from repotrack.cli.main import app

runner = CliRunner()


def test_show_redacts(tmp_path: Path) -> None:
    config = tmp_path / "repotrack.toml"
    config.write_text('[forges.gitee]\ntoken = "very-secret"\n[service]\nuser = "ops"\n')
    result = runner.invoke(app, ["--config", str(config), "config", "show"])
    assert result.exit_code == 0, result.output
    assert "very-secret" not in result.output
    assert 'token = "********"' in result.output
    assert 'user = "ops"' in result.output


def test_show_bad_file_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "repotrack.toml"
    config.write_text("[service\n")
    result = runner.invoke(app, ["--config", str(config), "config", "show"])
    assert result.exit_code == 2
    assert "ConfigError" in result.output and "repotrack.toml" in result.output


def test_import_legacy_writes_private_toml(tmp_path: Path) -> None:
    legacy = tmp_path / "settings.conf"
    legacy.write_text('LISTEN = "[::1]:5001"\nGITEE_ACCESS_TOKEN = "tok"\nSCAN_DB_INTERVAL = 60\n')
    out = tmp_path / "repotrack.toml"
    result = runner.invoke(app, ["config", "import-legacy", str(legacy), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = tomllib.loads(out.read_text())
    assert data["service"]["listen"] == "[::1]:5001"
    assert data["forges"]["gitee"]["token"] == "tok"
    assert data["tracking"]["scan_interval"] == 60
    shown = runner.invoke(app, ["--config", str(out), "config", "show"])
    assert shown.exit_code == 0 and "tok" not in shown.output.replace("token", "")


def test_import_legacy_refuses_code(tmp_path: Path) -> None:
    legacy = tmp_path / "settings.conf"
    legacy.write_text("import os\n")
    result = runner.invoke(app, ["config", "import-legacy", str(legacy)])
    assert result.exit_code == 2
    assert "settings.conf" in result.output
