"""parse_downstream: which forge, which API, which repository a downstream URL names."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from repotrack.config import ForgeSettings
from repotrack.errors import ConfigError, InputError
from repotrack.tracking.forges import ForgeTarget, default_api_url, parse_downstream

NO_CONFIG: dict[str, ForgeSettings] = {}


@pytest.mark.parametrize(
    "url",
    [
        "https://gitee.com/src-openeuler/zlib",
        "https://gitee.com/src-openeuler/zlib.git",
        "https://gitee.com/src-openeuler/zlib/",
        "https://gitee.com/src-openeuler/zlib.git/",
        "http://gitee.com/src-openeuler/zlib",
        "  https://GITEE.com/src-openeuler/zlib  ",
    ],
)
def test_gitee_url_variants_name_the_same_repository(url: str) -> None:
    target = parse_downstream(url, NO_CONFIG)
    assert target == ForgeTarget(
        kind="gitee",
        api_url="https://gitee.com/api/v5",
        web_url="https://gitee.com",
        owner="src-openeuler",
        name="zlib",
        forge_name="gitee",
    )
    assert target.clone_url == "https://gitee.com/src-openeuler/zlib.git"


def test_known_public_hosts() -> None:
    github = parse_downstream("https://github.com/o/r", NO_CONFIG)
    assert (github.kind, github.api_url) == ("github", "https://api.github.com")
    gitlab = parse_downstream("https://gitlab.com/o/r", NO_CONFIG)
    assert (gitlab.kind, gitlab.api_url) == ("gitlab", "https://gitlab.com/api/v4")
    codeberg = parse_downstream("https://codeberg.org/o/r.git", NO_CONFIG)
    assert (codeberg.kind, codeberg.api_url, codeberg.name) == (
        "gitea",
        "https://codeberg.org/api/v1",
        "r",
    )


def test_gitlab_subgroups_and_dash_tail() -> None:
    target = parse_downstream("https://gitlab.com/group/sub/deeper/pkg.git", NO_CONFIG)
    assert (target.owner, target.name) == ("group/sub/deeper", "pkg")
    assert target.clone_url == "https://gitlab.com/group/sub/deeper/pkg.git"
    tail = parse_downstream("https://gitlab.com/group/sub/pkg/-/tree/main", NO_CONFIG)
    assert (tail.owner, tail.name) == ("group/sub", "pkg")


def test_configured_forge_by_host_port_and_subpath() -> None:
    forges = {
        "internal": ForgeSettings(kind="gitea", web_url="http://git.example:3000/gitea/"),
        "lab": ForgeSettings(kind="gitlab", web_url="https://lab.example"),
        "ghes": ForgeSettings(kind="github", web_url="https://ghe.example"),
    }
    gitea = parse_downstream("http://git.example:3000/gitea/team/pkg", forges)
    assert gitea == ForgeTarget(
        kind="gitea",
        api_url="http://git.example:3000/gitea/api/v1",
        web_url="http://git.example:3000/gitea",
        owner="team",
        name="pkg",
        forge_name="internal",
    )
    assert gitea.clone_url == "http://git.example:3000/gitea/team/pkg.git"
    lab = parse_downstream("https://lab.example/a/b/c", forges)
    assert (lab.kind, lab.owner, lab.name, lab.forge_name) == ("gitlab", "a/b", "c", "lab")
    ghes = parse_downstream("https://ghe.example/o/r", forges)
    assert ghes.api_url == "https://ghe.example/api/v3"


def test_configured_api_url_wins_and_name_is_the_kind_by_default() -> None:
    forges = {"gitee": ForgeSettings(web_url="http://127.0.0.1:8080", api_url="http://x/api/v5/")}
    target = parse_downstream("http://127.0.0.1:8080/o/r", forges)
    assert (target.kind, target.api_url, target.forge_name) == ("gitee", "http://x/api/v5", "gitee")


def test_settings_without_web_url_apply_to_the_public_host() -> None:
    forges = {"work": ForgeSettings(kind="github", token=SecretStr("t"))}
    target = parse_downstream("https://github.com/o/r", forges)
    assert (target.kind, target.forge_name) == ("github", "work")


def test_default_api_urls() -> None:
    assert default_api_url("gitee", "https://gitee.com") == "https://gitee.com/api/v5"
    assert default_api_url("gitee", "http://h:1") == "http://h:1/api/v5"
    assert default_api_url("github", "https://github.com") == "https://api.github.com"
    assert default_api_url("gitlab", "https://h") == "https://h/api/v4"
    assert default_api_url("gitea", "https://h/sub") == "https://h/sub/api/v1"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("", "empty"),
        ("https://unknown.example/o/r", "no forge configured for 'unknown.example'"),
        ("https://gitee.com:8443/o/r", "no forge configured"),
        ("ssh://git@gitee.com/o/r.git", "expected an http(s) URL"),
        ("git@gitee.com:o/r.git", "expected an http(s) URL"),
        ("file:///srv/git/r", "expected an http(s) URL"),
        ("https://gitee.com/onlyowner", "ending in owner/name"),
        ("https://gitee.com/", "ending in owner/name"),
        ("https://github.com/o/r/tree/main", "ending in owner/name"),
        ("https://gitlab.com/solo", "group[/subgroup]/name"),
        ("https://gitee.com/o/r?x=1", "unexpected query"),
        ("https://gitee.com/o/..", "bad path segment"),
        ("https://gitee.com/o/-rf", "bad path segment"),
        ("https://gitee.com:notaport/o/r", "not a valid URL"),
    ],
)
def test_bad_urls_are_input_errors_naming_the_repo_field(url: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_downstream(url, NO_CONFIG)
    assert info.value.field == "repo"
    assert fragment in str(info.value)


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(InputError) as info:
        parse_downstream("https://bot:s3cr3t-token@gitee.com/o/r", NO_CONFIG)
    assert "s3cr3t-token" not in str(info.value)
    assert "credentials" in str(info.value)


def test_unknown_configured_kind_is_a_config_error() -> None:
    forges = {"mystery": ForgeSettings(web_url="https://m.example")}
    with pytest.raises(ConfigError, match=r"forges\.mystery\.kind"):
        parse_downstream("https://m.example/o/r", forges)


@pytest.mark.parametrize(
    "short", ["src-openeuler/zlib", "src-openeuler/zlib/", " src-openeuler/zlib"]
)
def test_owner_name_form_is_on_gitee_by_default(short: str) -> None:
    """The original 20.09 docs gave ``repo`` as owner/name; its tracker ran it on Gitee."""
    assert parse_downstream(short, NO_CONFIG) == parse_downstream(
        "https://gitee.com/src-openeuler/zlib", NO_CONFIG
    )


def test_owner_name_form_follows_the_configured_default_forge() -> None:
    forges = {"corp": ForgeSettings(kind="gitlab", web_url="https://git.example.org/gl")}
    target = parse_downstream("group/sub/name", forges, default_forge="corp")
    assert (target.kind, target.forge_name, target.owner, target.name) == (
        "gitlab", "corp", "group/sub", "name",
    )  # fmt: skip
    assert target.clone_url == "https://git.example.org/gl/group/sub/name.git"
    github = parse_downstream("o/r", NO_CONFIG, default_forge="github")
    assert github.api_url == "https://api.github.com"
    with pytest.raises(ConfigError, match="nowhere"):
        parse_downstream("o/r", NO_CONFIG, default_forge="nowhere")
    codeberg = parse_downstream("o/r", {"mine": ForgeSettings(kind="gitea")}, default_forge="mine")
    assert codeberg.clone_url == "https://codeberg.org/o/r.git"
