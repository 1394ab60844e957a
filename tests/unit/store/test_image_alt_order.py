"""Image diffs and version ranges in the version order of the image's branch.

ALT's rpm calls ``1.0.rc1`` newer than ``1.0.0`` (a letter segment beats a digit one;
tests/data/alt-vercmp holds its answers), librpm older. An image of an ALT branch is
read as ALT's apt would read it when the settings give the branch ALT's order.
"""

from __future__ import annotations

from datetime import date

from repotrack.rpm import VersionOrder
from repotrack.store import Store
from repotrack.store.image_queries import diff_images, images_with_package
from tests.unit.store.rows import PACKAGE_COLUMNS, package
from tests.unit.store.test_image_altrepo_api import WS, _image

RC, FINAL = 101, 102


def _alt(_branch: str) -> VersionOrder:
    return VersionOrder.ALT


def _two_images(store: Store) -> None:
    """The May image holds foo 1.0.rc1-alt1, the June image foo 1.0.0-alt1."""
    rows = [package(RC, "foo", "1.0.rc1"), package(FINAL, "foo", "1.0.0")]
    store.insert("Packages_buffer", PACKAGE_COLUMNS, rows)
    _image(store, WS, date(2024, 5, 2), {"rpms": [RC]})
    _image(store, WS, date(2024, 6, 2), {"rpms": [FINAL]})


def test_image_diff_direction_in_the_branch_order(store: Store) -> None:
    _two_images(store)
    kwargs = {"old_tag": WS, "new_tag": WS, "old_day": date(2024, 5, 31)}
    (upstream,) = diff_images(store, **kwargs).updated  # type: ignore[arg-type]
    (alt,) = diff_images(store, **kwargs, order_of=_alt).updated  # type: ignore[arg-type]
    assert (upstream.old.pkg_hash, upstream.new.pkg_hash, upstream.direction) == (RC, FINAL, 1)
    assert (alt.old.pkg_hash, alt.new.pkg_hash, alt.direction) == (RC, FINAL, -1)


def test_image_find_range_in_the_branch_order(store: Store) -> None:
    _two_images(store)

    def found(**kwargs: object) -> set[int]:
        hits = images_with_package(store, name="foo", **kwargs)  # type: ignore[arg-type]
        return {hit.package.pkg_hash for hit in hits}

    assert found(max_version="1.0.0") == {RC, FINAL}
    assert found(max_version="1.0.0", order_of=_alt) == {FINAL}
    assert found(min_version="1.0.rc1") == {RC, FINAL}
    assert found(min_version="1.0.rc1", order_of=_alt) == {RC}
