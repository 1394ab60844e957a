"""The forge registry is an explicit dict; its names and the package's public names are pinned."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

import repotrack.tracking.forges as forges
from repotrack.errors import ConfigError
from repotrack.tracking.forges import FORGES, make_forge


def test_registry_names_are_pinned() -> None:
    assert sorted(FORGES) == ["gitea", "gitee", "github", "gitlab"]
    for kind, cls in FORGES.items():
        assert cls.kind == kind


def test_make_forge_builds_each_kind_and_refuses_unknown_ones() -> None:
    for kind in FORGES:
        forge = make_forge(kind, token=SecretStr("t0ken-value"), api_url="http://127.0.0.1:9/api")
        assert forge.kind == kind
        assert "t0ken-value" not in repr(forge)
    with pytest.raises(ConfigError, match="unknown forge kind 'bitbucket'"):
        make_forge("bitbucket", token=None, api_url="http://x")


def test_public_names_exist_once() -> None:
    assert len(set(forges.__all__)) == len(forges.__all__)
    for name in forges.__all__:
        assert hasattr(forges, name), name
