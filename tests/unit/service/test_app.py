"""The app factory: routers, app.state, the legacy settings.conf path of ``patch-tracking``."""

from __future__ import annotations

from pathlib import Path

from repotrack.cli.serve import _legacy_settings
from repotrack.config import Settings
from repotrack.service import create_app
from repotrack.service.routes import ROUTERS


def test_routers_include_ours() -> None:
    assert {"compat", "items", "issues", "health"} <= set(ROUTERS)


def test_app_state_and_routes(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    app = create_app(settings, scheduler=False)
    assert app.state.settings is settings
    assert app.state.state_db.url == settings.state_url
    paths = set(app.openapi()["paths"])
    assert {"/tracking", "/issue", "/api/v1/items", "/api/v1/issues", "/healthz"} <= paths
    assert "/" not in paths
    app.state.state_db.close()


def test_legacy_settings_conf_is_read_with_its_certificate(tmp_path: Path) -> None:
    conf = tmp_path / "settings.conf"
    conf.write_text(
        'LISTEN = "127.0.0.1:5002"\nGITHUB_ACCESS_TOKEN = ""\nGITEE_ACCESS_TOKEN = "tok"\n'
        'SCAN_DB_INTERVAL = 600\nUSER = "hello"\n'
        'PASSWORD = "pbkdf2:sha256:150000$abcdefgh$00"\n'
    )
    (tmp_path / "self-signed.crt").write_text("c")
    (tmp_path / "self-signed.key").write_text("k")
    settings, cert, key = _legacy_settings(conf)
    assert settings.service.listen == "127.0.0.1:5002"
    assert settings.service.user == "hello"
    assert settings.tracking.scan_interval == 600
    assert (cert, key) == (tmp_path / "self-signed.crt", tmp_path / "self-signed.key")
