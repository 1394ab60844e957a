"""URLs that carry credentials are refused at every door and never listed (issue 9).

``http://bot:SECRET@host/x.git`` as ``scm_repo`` used to be stored, returned to anonymous
``GET /tracking`` and passed to git on its command line (visible in ``ps``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from repotrack.errors import InputError
from repotrack.state import StateDB, Tracking
from repotrack.state import tracking_items as items


def fields(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "version_control": "git",
        "scm_repo": "https://git.example.org/x.git",
        "scm_branch": "master",
        "scm_commit": None,
        "repo": "https://gitee.com/o/r",
        "branch": "master",
        "enabled": True,
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("field", "url"),
    [
        ("scm_repo", "http://bot:SECRET@git.example.org/x.git"),
        ("scm_repo", "https://SECRET@github.com/o/r.git"),
        ("scm_repo", "ssh://git:SECRET@git.example.org/x.git"),
        ("scm_repo", "HTTPS://bot:SECRET@git.example.org/x.git"),
        ("repo", "https://oauth2:SECRET@gitee.com/o/r"),
    ],
)
def test_credentials_in_urls_are_refused_without_echo(field: str, url: str) -> None:
    with pytest.raises(InputError) as caught:
        items.check_item_fields(fields(**{field: url}))
    assert caught.value.field == field
    assert "token_file" in str(caught.value)
    assert "SECRET" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "ssh://git@git.example.org/x.git",
        "git@github.com:o/r.git",
        "https://git.example.org/x@y.git",
        "owner/name",
    ],
)
def test_account_names_without_secrets_are_accepted(url: str) -> None:
    assert items.check_item_fields(fields(scm_repo=url))["scm_repo"] == url


def test_rows_stored_earlier_are_listed_redacted(tmp_path: Path) -> None:
    db = StateDB(f"sqlite:///{tmp_path / 'state.sqlite'}")
    try:
        with db.session() as session:
            session.add(Tracking(**fields(scm_repo="http://bot:SECRET@git.example.org/x.git")))
        with db.session() as session:
            (row,) = items.list_item_fields(session)
            (by_repo,) = items.list_item_fields(session, repo="https://gitee.com/o/r")
        assert row["scm_repo"] == "http://***@git.example.org/x.git"
        assert by_repo["scm_repo"] == "http://***@git.example.org/x.git"
    finally:
        db.close()


def test_stored_credential_url_never_reaches_git() -> None:
    from repotrack.tracking.upstream import resolve_upstream_url

    with pytest.raises(InputError) as caught:
        resolve_upstream_url(
            "git",
            "http://bot:SECRET@git.example.org/x.git",
            github_base_url="https://github.com",
            allow_local=False,
        )
    assert "SECRET" not in str(caught.value)
    assert "***@git.example.org" in str(caught.value)
