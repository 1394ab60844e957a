"""Settings from the environment: the rules ``REPOTRACK_<SECTION>__<KEY>`` follows.

These pin what users rely on (names are case-insensitive, nested keys merge into the
file's tables key by key, list and table values are JSON, an unknown key is an error),
so that the reader of the environment can change without users noticing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from repotrack.config import Settings, load_settings
from repotrack.errors import ConfigError


def test_nested_keys_merge_with_the_files_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "repotrack.toml"
    path.write_text(
        '[forges.gitee]\nweb_url = "https://gitee.com"\nusername = "bot"\n'
        "[tracking]\nmax_retries = 2\n"
    )
    monkeypatch.setenv("REPOTRACK_FORGES__GITEE__USERNAME", "patch-bot")
    monkeypatch.setenv("REPOTRACK_FORGES__GITHUB__TOKEN", "ghp_x")
    monkeypatch.setenv("repotrack_tracking__git_timeout", "12.5")
    settings = load_settings(path)
    gitee = settings.forge("gitee")
    assert (gitee.web_url, gitee.username) == ("https://gitee.com", "patch-bot")
    token = settings.forge("github").token
    assert token is not None and token.get_secret_value() == "ghp_x"
    assert (settings.tracking.max_retries, settings.tracking.git_timeout) == (2, 12.5)


def test_list_and_table_values_are_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPOTRACK_TRACKING__UPSTREAM_ALLOW_HOSTS", '["127.0.0.1", "10.0.0.0/8"]')
    monkeypatch.setenv("REPOTRACK_FORGES__GITEE__FORK_REPOS", '["src-openeuler/*"]')
    monkeypatch.setenv("REPOTRACK_FEEDS__INTERVAL__ACL", "3600")
    monkeypatch.setenv("REPOTRACK_QUEUE", '{"url": "amqp://127.0.0.1/"}')
    settings = load_settings()
    assert settings.tracking.upstream_allow_hosts == ["127.0.0.1", "10.0.0.0/8"]
    assert settings.forge("gitee").fork_repos == ["src-openeuler/*"]
    assert settings.feeds.interval == {"acl": 3600}
    assert settings.queue.url == "amqp://127.0.0.1/"


def test_a_whole_table_and_its_keys_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPOTRACK_SERVICE", '{"user": "alice", "listen": "127.0.0.1:7001"}')
    monkeypatch.setenv("REPOTRACK_SERVICE__LISTEN", "127.0.0.1:7002")
    settings = load_settings()
    assert (settings.service.user, settings.service.listen) == ("alice", "127.0.0.1:7002")


def test_environment_over_file_and_overrides_over_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "repotrack.toml"
    path.write_text('log_level = "ERROR"\n[queue]\nurl = "amqp://file/"\n')
    monkeypatch.setenv("REPOTRACK_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("REPOTRACK_HOME", str(tmp_path / "from-env"))
    settings = load_settings(path, queue={"url": "memory://"})
    assert settings.log_level == "DEBUG"
    assert settings.home == tmp_path / "from-env"
    assert settings.queue.url == "memory://"


def test_variables_that_are_not_settings_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REPOTRACK_CONFIG_X", "REPOTRACK_USER", "REPOTRACK_PASSWORD", "REPOTRACK_DEBUG"):
        monkeypatch.setenv(name, "1")
    assert load_settings().service.user == "admin"


def test_bad_values_from_the_environment_are_config_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REPOTRACK_TRACKING__SCAN_INTERVAL", "0")
    with pytest.raises(ConfigError, match=r"tracking\.scan_interval"):
        load_settings()


def test_settings_built_directly_are_plain_values(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, log_level="WARNING")
    assert (settings.home, settings.log_level, settings.config_file) == (
        tmp_path,
        "WARNING",
        None,
    )
