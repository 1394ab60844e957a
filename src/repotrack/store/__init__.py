"""The analytics store: ALTRepo's ClickHouse schema on embedded chDB or a ClickHouse server.

Other layers use only these names. ``open_store(url)`` picks the backend from the
URL; every backend keeps the ``Store`` contract (see ``store.base`` for parameter
binding and how to pass FixedString, UUID, DateTime, Nested and Array values). The
typed read queries (``list_packages``, ``package_info``, ``diff_package_sets``) serve
the CLI and the REST API alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from repotrack.lazy_names import lazy_getattr
from repotrack.store.base import DEFAULT_BATCH_ROWS, Params, Row, Store
from repotrack.store.migrations import (
    MigrationState,
    migrate,
    migration_status,
    open_current_store,
)
from repotrack.store.urls import open_store, redact_url

if TYPE_CHECKING:
    from repotrack.store.queries import (
        MAX_LIMIT,
        PackageDiff,
        PackageInfo,
        PackageList,
        PackageSetRef,
        PackageSummary,
        diff_package_sets,
        find_package_set,
        list_packages,
        package_info,
        to_plain,
    )
    from repotrack.store.seed import seed_license_aliases

#: Names imported from their module when first used (``__getattr__``): the read queries'
#: two dozen dataclasses and the seed's data access cost about 0.01 s of every process
#: that imports any part of the store, such as a load, which uses neither.
_LAZY = {
    "MAX_LIMIT": "queries",
    "PackageDiff": "queries",
    "PackageInfo": "queries",
    "PackageList": "queries",
    "PackageSetRef": "queries",
    "PackageSummary": "queries",
    "diff_package_sets": "queries",
    "find_package_set": "queries",
    "list_packages": "queries",
    "package_info": "queries",
    "to_plain": "queries",
    "seed_license_aliases": "seed",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "MAX_LIMIT",
    "MigrationState",
    "PackageDiff",
    "PackageInfo",
    "PackageList",
    "PackageSetRef",
    "PackageSummary",
    "Params",
    "Row",
    "Store",
    "diff_package_sets",
    "find_package_set",
    "list_packages",
    "migrate",
    "migration_status",
    "open_current_store",
    "open_store",
    "package_info",
    "redact_url",
    "seed_license_aliases",
    "to_plain",
]
