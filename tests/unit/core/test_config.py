"""Settings: defaults without a file, TOML, environment overrides, secrets, LISTEN forms."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from repotrack.config import load_settings, parse_listen, read_secret
from repotrack.errors import ConfigError


def test_defaults_need_no_file() -> None:
    settings = load_settings()
    assert settings.config_file is None
    assert settings.service.listen == "127.0.0.1:5001"
    home = Path(os.environ["REPOTRACK_HOME"])
    assert settings.state_url == f"sqlite:///{home / 'state.sqlite'}"  # nothing to quote
    assert settings.store_url == f"chdb://{home / 'store'}"
    assert settings.queue.url == "memory://"


@pytest.mark.parametrize("name", ["p%41th", "a?b", "a#b", "it's a дом", "100%"])
def test_the_default_urls_name_files_in_the_home_whatever_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The default URLs are made of the home's path: before 2026-12-07 they held it
    as it was, so a URL parser read ``p%41th`` as ``pAth`` (the store and the state
    database went to another directory) and ``a?b`` as ``a`` with a query."""
    from sqlalchemy.engine import make_url

    from repotrack.store.urls import chdb_path

    home = tmp_path / name
    monkeypatch.setenv("REPOTRACK_HOME", str(home))
    settings = load_settings()
    assert make_url(settings.state_url).database == str(home / "state.sqlite")
    assert chdb_path(settings.store_url) == home / "store"


def test_toml_file_and_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "repotrack.toml"
    path.write_text(
        '[service]\nlisten = "0.0.0.0:6000"\nuser = "bob"\n[tracking]\nscan_interval = 60\n'
    )
    monkeypatch.setenv("REPOTRACK_SERVICE__LISTEN", "[::1]:7000")
    settings = load_settings(path)
    assert settings.config_file == path
    assert settings.service.listen == "[::1]:7000"
    assert settings.service.user == "bob"
    assert settings.tracking.scan_interval == 60


def test_cwd_file_is_found(tmp_path: Path) -> None:
    Path("repotrack.toml").write_text('[service]\nuser = "carol"\n')
    assert load_settings().service.user == "carol"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[service\n", "malformed TOML"),
        ('[service]\nlisten = "nowhere"\n', "listen"),
        ("[tracking]\nscan_interval = 0\n", "scan_interval"),
        ('[surprise]\nkey = "x"\n', "surprise"),
        ('[vulns]\npurl_vendor = "ALT Linux"\n', "purl_vendor"),  # a purl namespace
        ('[vulns]\nbranch_orders = { p10 = "alt", P10 = "rpm" }\n', "branch p10 is named twice"),
    ],
)
def test_bad_files_are_errors_naming_the_file(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value)
    assert needle in str(info.value)


def test_named_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("127.0.0.1:5001", "127.0.0.1", 5001),
        ("[::1]:5001", "::1", 5001),
        ("patch.example.org:443", "patch.example.org", 443),
        ("localhost:8080", "localhost", 8080),
    ],
)
def test_listen_forms(text: str, host: str, port: int) -> None:
    listen = parse_listen(text)
    assert (listen.host, listen.port) == (host, port)
    assert str(listen) == text


@pytest.mark.parametrize(
    "text", ["1.2.3.4", "1.2.3.256:80", "[::1:80", "host:0", "host:70000", "::1:80", "-bad-:80"]
)
def test_bad_listen(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_listen(text)


def test_loopback_detection() -> None:
    assert parse_listen("127.0.0.1:1").is_loopback
    assert parse_listen("[::1]:1").is_loopback
    assert parse_listen("localhost:1").is_loopback
    assert not parse_listen("0.0.0.0:1").is_loopback


def test_secret_file_must_be_private(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        read_secret(secret, key="forges.gitee.token_file")
    secret.chmod(0o600)
    assert read_secret(secret, key="x").get_secret_value() == "s3cret"


def test_forge_token_file_and_redaction(tmp_path: Path) -> None:
    secret = tmp_path / "gitee.token"
    secret.write_text("tok-123")
    secret.chmod(0o600)
    path = tmp_path / "repotrack.toml"
    path.write_text(
        f'[forges.gitee]\ntoken_file = "{secret}"\n'
        '[forges.github]\ntoken = "ghp_visible"\n'
        '[store]\nurl = "clickhouse://user:pw@db:8123/repo"\n'
    )
    settings = load_settings(path)
    token = settings.forge("gitee").resolved_token("gitee")
    assert token is not None and token.get_secret_value() == "tok-123"
    shown = repr(settings.redacted())
    assert "ghp_visible" not in shown
    assert "pw@" not in shown
    assert "clickhouse://user:********@db:8123/repo" in shown


def test_nvd_api_key_from_file_env_and_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "nvd.key"
    secret.write_text("nvd-key-1\n")
    secret.chmod(0o644)
    path = tmp_path / "repotrack.toml"
    path.write_text(f'[vulns]\nnvd_api_key_file = "{secret}"\n')
    with pytest.raises(ConfigError, match="chmod 600"):
        load_settings(path).vulns.resolved_nvd_api_key()
    secret.chmod(0o600)
    assert load_settings(path).vulns.resolved_nvd_api_key() == "nvd-key-1"
    monkeypatch.setenv("REPOTRACK_VULNS__NVD_API_KEY", "nvd-key-2")
    monkeypatch.delenv("REPOTRACK_CONFIG", raising=False)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    settings = load_settings()
    assert settings.vulns.resolved_nvd_api_key() == "nvd-key-2"
    assert "nvd-key-2" not in repr(settings.redacted()) and "nvd-key-2" not in repr(settings)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[service]\nlistn = "127.0.0.1:6000"\n', "service.listn"),
        ('[forges.gitee]\ntokn = "x"\n', "forges.gitee.tokn"),
        ("[tracking]\nscan_intervall = 5\n", "tracking.scan_intervall"),
        ('[store]\nurl = "chdb:///x"\npasword_file = "/p"\n', "store.pasword_file"),
        ('[state]\nulr = "sqlite://"\n', "state.ulr"),
        ('[queue]\nuri = "memory://"\n', "queue.uri"),
        ('homee = "/x"\n', "homee"),
    ],
)
def test_unknown_keys_are_errors_naming_key_and_file(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "repotrack.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value)
    assert f"unknown key '{key}'" in str(info.value)


def test_unknown_key_in_the_environment_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPOTRACK_SERVICE__LISTN", "127.0.0.1:6000")
    with pytest.raises(ConfigError, match=r"unknown key 'service\.listn'"):
        load_settings()
