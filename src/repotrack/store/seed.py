"""Seed data the schema needs before any loader runs (``repotrack db seed``).

``LicenseAliases`` maps license spellings found in RPM headers (``GPLv2+``,
``ASL 2.0``) and SPDX's deprecated identifiers (``GPL-2.0+``) to current SPDX ids.
The list ships as ``store/data/license_aliases.json``; seeding twice adds nothing.
"""

from __future__ import annotations

import json
from importlib import resources

from repotrack.errors import StoreError
from repotrack.store.base import Store

__all__ = ["license_aliases", "seed_license_aliases"]


def license_aliases() -> list[tuple[str, str]]:
    """The shipped (alias, spdx_id) pairs."""
    text = (
        resources.files("repotrack.store")
        .joinpath("data/license_aliases.json")
        .read_text(encoding="utf-8")
    )
    return [(row["alias"], row["spdx_id"]) for row in json.loads(text)["aliases"]]


def seed_license_aliases(store: Store) -> int:
    """Insert the aliases the store lacks; return how many were added."""
    pairs = license_aliases()
    try:
        present = set(store.query("SELECT DISTINCT alias, spdx_id FROM LicenseAliases"))
    except StoreError as exc:
        raise StoreError(f"{exc} (run 'repotrack db init' first)") from exc
    missing = [pair for pair in pairs if pair not in present]
    if missing:
        store.insert("LicenseAliases", ("alias", "spdx_id"), missing)
    return len(missing)
