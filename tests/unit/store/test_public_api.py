"""The store package's public surface and its shipped data."""

from __future__ import annotations

import json

import repotrack.store as store_pkg
from repotrack.store.seed import license_aliases
from tests.conftest import need_fixtures


def test_all_is_sorted_and_complete() -> None:
    names = store_pkg.__all__
    assert names == sorted(names)
    for name in ("Store", "open_store", "migrate", "migration_status", "seed_license_aliases"):
        assert name in names
    assert all(hasattr(store_pkg, name) for name in names)


def test_license_aliases_point_at_current_spdx_ids() -> None:
    listing = need_fixtures("spdx", "licenses.json")
    licenses = json.loads(listing.read_text(encoding="utf-8"))["licenses"]
    current = {item["licenseId"] for item in licenses if not item.get("isDeprecatedLicenseId")}
    pairs = license_aliases()
    assert len(pairs) == len(set(pairs)) > 50
    assert {spdx for _, spdx in pairs} <= current
    assert ("GPL-2.0+", "GPL-2.0-or-later") in pairs
