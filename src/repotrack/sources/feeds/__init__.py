"""Parsers of ALTRepo's enrichment feeds (reference/altrepo.md §5): text in, records out.

One module per feed; none fetches anything (``ingest.feeds.fetch`` does) or touches
the store. Each returns ``Parsed`` records plus a ``Problem`` per skipped line.
"""

from repotrack.sources.feeds.acl import AclLine, acl_list_branch, parse_acl_list
from repotrack.sources.feeds.beehive import (
    BuildTime,
    Nvr,
    parse_ftbfs_since,
    parse_nvr,
    parse_time_list,
)
from repotrack.sources.feeds.bugzilla import COLUMNS as BUGZILLA_COLUMNS
from repotrack.sources.feeds.bugzilla import Bug, parse_bug_csv
from repotrack.sources.feeds.common import Parsed, Problem
from repotrack.sources.feeds.listing import ListingEntry, parse_listing
from repotrack.sources.feeds.repocop import FIELDS as REPOCOP_FIELDS
from repotrack.sources.feeds.repocop import RepocopResult, parse_repocop
from repotrack.sources.feeds.repology import NameConversion, parse_repology_projects
from repotrack.sources.feeds.spdx import SpdxRecord, read_spdx_tree
from repotrack.sources.feeds.watch import WatchLine, parse_watch

__all__ = [
    "BUGZILLA_COLUMNS",
    "REPOCOP_FIELDS",
    "AclLine",
    "Bug",
    "BuildTime",
    "ListingEntry",
    "NameConversion",
    "Nvr",
    "Parsed",
    "Problem",
    "RepocopResult",
    "SpdxRecord",
    "WatchLine",
    "acl_list_branch",
    "parse_acl_list",
    "parse_bug_csv",
    "parse_ftbfs_since",
    "parse_listing",
    "parse_nvr",
    "parse_repocop",
    "parse_repology_projects",
    "parse_time_list",
    "parse_watch",
    "read_spdx_tree",
]
