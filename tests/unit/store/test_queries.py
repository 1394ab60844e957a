"""Typed queries (store.queries) on a store holding two p10 snapshots."""

from __future__ import annotations

from datetime import date

import pytest

from repotrack.errors import InputError, NotFoundError
from repotrack.store import Store
from repotrack.store.queries import (
    diff_package_sets,
    find_package_set,
    glob_to_like,
    list_packages,
    package_info,
)
from tests.unit.store.rows import FOO2_BIN, JUNE, MAY, load_two_snapshots


@pytest.fixture
def loaded(store: Store) -> Store:
    load_two_snapshots(store)
    return store


def test_package_set_by_branch_and_day(loaded: Store) -> None:
    assert find_package_set(loaded, branch="p10", day=date(2024, 5, 31)).date == MAY
    assert find_package_set(loaded, branch="p10", day=date(2024, 6, 1)).date == JUNE
    assert find_package_set(loaded, branch="p10").date == JUNE
    with pytest.raises(NotFoundError, match="on or before 2024-04-30"):
        find_package_set(loaded, branch="p10", day=date(2024, 4, 30))
    with pytest.raises(NotFoundError, match="branch p9"):
        find_package_set(loaded, branch="p9")
    # loads store the name lowercased (ALTRepo's repo_loader does): P10 is p10
    assert find_package_set(loaded, branch=" P10 ") == find_package_set(loaded, branch="p10")
    assert find_package_set(loaded, branch="P10").branch == "p10"


def test_list_packages_filters_and_pages(loaded: Store) -> None:
    page = list_packages(loaded, branch="p10", day=date(2024, 5, 1))
    assert page.total == 5
    assert [(p.name, p.arch) for p in page.packages] == [
        ("bar", "noarch"),
        ("bar", "src"),
        ("foo", "src"),
        ("foo", "x86_64"),
        ("libfoo", "x86_64"),
    ]
    binaries = list_packages(
        loaded, branch="p10", day=date(2024, 6, 2), arch="x86_64", name_glob="*foo"
    )
    assert [(p.name, p.version) for p in binaries.packages] == [("foo", "1.10"), ("libfoo", "1.0")]
    second = list_packages(loaded, branch="p10", day=date(2024, 6, 2), limit=2, offset=2)
    assert second.total == 5 and len(second.packages) == 2
    assert list_packages(loaded, branch="p10", name_glob="li?foo").packages[0].name == "libfoo"
    assert list_packages(loaded, branch="p10", name_glob="%").total == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
        ({"branch": ""}, "branch"),
        ({"branch": "p 10"}, "branch"),
    ],
)
def test_list_packages_bad_input(loaded: Store, kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"branch": "p10", **kwargs}
    with pytest.raises(InputError, match=field):
        list_packages(loaded, **args)  # type: ignore[arg-type]


def test_glob_to_like_escapes_like_syntax() -> None:
    assert glob_to_like("lib*-dev?") == "lib%-dev_"
    assert glob_to_like("100%_\\") == "100\\%\\_\\\\"


def test_package_info(loaded: Store) -> None:
    info = package_info(loaded, name="foo", branch="p10")
    assert [(b.package.arch, b.package.evr) for b in info.builds] == [
        ("src", "1.10-alt1"),
        ("x86_64", "1.10-alt1"),
    ]
    binary = info.builds[1]
    assert binary.package.pkg_hash == FOO2_BIN
    assert binary.files == ["/usr/bin/foo", "/usr/share/doc/foo", "/usr/share/doc/foo/README"]
    assert [(d.type, d.name) for d in binary.depends] == [("require", "libfoo"), ("provide", "foo")]
    assert binary.hashes["sha256"] == "cd" * 32
    assert [c.text for c in binary.changelog] == [
        "- 1.10 released (fixes CVE-2024-0001)",
        "- 1.0 released",
    ]
    old = package_info(loaded, name="foo", branch="p10", day=date(2024, 5, 15))
    assert old.builds[0].package.version == "1.0"
    with pytest.raises(NotFoundError, match="baz is not in p10 as of 2024-05-01"):
        package_info(loaded, name="baz", branch="p10", day=date(2024, 5, 1))


def test_diff_uses_rpm_version_order(loaded: Store) -> None:
    diff = diff_package_sets(
        loaded, branch="p10", old_day=date(2024, 5, 1), new_day=date(2024, 6, 1)
    )
    assert [(p.name, p.arch) for p in diff.added] == [("baz", "src"), ("baz", "x86_64")]
    assert [(p.name, p.arch) for p in diff.removed] == [("bar", "noarch"), ("bar", "src")]
    assert [(u.name, u.arch, u.old.version, u.new.version, u.direction) for u in diff.updated] == [
        ("foo", "src", "1.0", "1.10", 1),
        ("foo", "x86_64", "1.0", "1.10", 1),
    ]
    reverse = diff_package_sets(
        loaded, branch="p10", old_day=date(2024, 5, 1), new_day=date(2024, 5, 1)
    )
    assert not (reverse.added or reverse.removed or reverse.updated)
    with pytest.raises(InputError, match="before the first"):
        diff_package_sets(loaded, branch="p10", old_day=date(2024, 6, 1), new_day=date(2024, 5, 1))
