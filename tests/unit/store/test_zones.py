"""Which engine zones the store accepts: UTC under any of its names, nothing else."""

from __future__ import annotations

import pytest

from repotrack.errors import StoreError
from repotrack.store.zones import UTC_NAMES, require_utc


@pytest.mark.parametrize("zone", sorted(UTC_NAMES))
def test_utc_by_any_name_is_accepted(zone: str) -> None:
    require_utc(zone, where="the engine", fix="none needed")


@pytest.mark.parametrize("zone", ["Europe/Moscow", "America/Los_Angeles", "Etc/GMT-3", "CET"])
def test_any_other_zone_is_refused_with_the_fix(zone: str) -> None:
    with pytest.raises(StoreError, match=rf"^the engine reads stored times in {zone}, not UTC"):
        require_utc(zone, where="the engine", fix="run it in UTC")
