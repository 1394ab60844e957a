"""``from_plain`` rebuilds what ``to_plain`` flattened, so results from the service render
exactly like results computed from the store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repotrack.cli.store_reads import from_plain, open_existing_store
from repotrack.errors import StoreError
from repotrack.store import PackageList, PackageSetRef, PackageSummary, to_plain
from repotrack.store.enrichment import (
    BuildStatus,
    LicenseDetail,
    MaintainerPackage,
    OpenBug,
    PackageFeeds,
)

WHEN = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def test_round_trip_of_package_feeds() -> None:
    feeds = PackageFeeds(
        branch="p10",
        name="foo",
        acl=["ivan", "@core"],
        groups={"@core": ["olga"]},
        beehive=[BuildStatus("x86_64", "1.0", "alt1", "error", 12.5, WHEN, WHEN)],
        bugs=[OpenBug(42, "NEW", "", "normal", "Sisyphus", "ivan", "crash", WHEN)],
        license="GPL-2.0-or-later",
        licenses=[LicenseDetail("GPLv2+", "GPL-2.0-or-later", "GNU GPL", "license", ["u"])],
    )
    assert from_plain(PackageFeeds, to_plain(feeds)) == feeds


def test_round_trip_of_lists_and_big_hashes() -> None:
    ref = PackageSetRef(uuid=uuid.uuid4(), branch="p10", date=WHEN, tag="t")
    summary = PackageSummary(2**63 + 5, "foo", 0, "1.0", "alt1", "src", True, 1, "s")
    listing = PackageList(ref, 1, [summary])
    plain = to_plain(listing)
    assert plain["packages"][0]["pkg_hash"] == str(2**63 + 5)  # a string on the wire
    rebuilt = from_plain(PackageList, plain)
    assert rebuilt == listing
    rows = [MaintainerPackage("foo", True, failing_arches=["i586"])]
    assert from_plain(list[MaintainerPackage], to_plain(rows)) == rows


def test_reading_never_creates_a_store(tmp_path: Path) -> None:
    target = tmp_path / "nothing" / "store"
    with pytest.raises(StoreError, match="never initialised"):
        open_existing_store(f"chdb://{target}")
    assert not (tmp_path / "nothing").exists()
