"""Branch names as the store keeps them, and whether the store holds a branch.

Every loader stores a branch under its name stripped and lowercased, as ALTRepo's
``repo_loader`` does (``P10`` and ``p10`` are one branch). Questions are asked with the
same rule, so ``--branch Sisyphus`` finds ``sisyphus``: before 2026-12-07 only the task
queries lowercased, and ``vulns open -b P10`` of a store loaded with ``load repo P10``
answered "0 verdict(s)", which reads as "nothing open".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from repotrack.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from repotrack.store.base import Store

__all__ = ["branch_name", "has_package_set", "stored_branch"]

_MAX_LENGTH: Final = 200


def branch_name(branch: str) -> str:
    """``branch`` as stored: stripped and lowercased. A name that no load could have
    stored (empty, longer than 200 characters, with a space or a slash) is an
    InputError."""
    name = branch.strip().lower()
    if not name or len(name) > _MAX_LENGTH or any(c.isspace() or c in "/\\" for c in name):
        raise InputError(
            f"bad branch name {branch!r} (a branch is named like p10 or sisyphus)",
            field="branch",
        )
    return name


_HAS_SET: Final = """
    SELECT count() FROM PackageSetName
    WHERE pkgset_depth = 0 AND pkgset_nodename = {branch:String}
        AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] = 'repository'
"""


def has_package_set(store: Store, branch: str) -> bool:
    """Whether a repository snapshot of ``branch`` (a stored name) is published."""
    ((count,),) = store.query(_HAS_SET, {"branch": branch})
    return bool(count)


def stored_branch(store: Store, branch: str) -> str:
    """``branch`` as stored, once the store is known to hold a snapshot of it: a
    question about a branch never loaded (a typo, a branch of another store) is a
    NotFoundError, not an empty answer."""
    name = branch_name(branch)
    if not has_package_set(store, name):
        raise NotFoundError(f"no package set of branch {name}")
    return name
