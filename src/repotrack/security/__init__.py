"""Vulnerability logic over the store: package mapping, matching, verdicts, triage.

``rematch_branch`` is the one core function the CLI, the REST API and a job call to
recompute a branch; the rest are the small writes a user makes between rematches.
"""

from repotrack.security.mapping import Mapping, list_mappings, set_mapping, unset_mapping
from repotrack.security.matching import MatchRun, rematch_branch
from repotrack.security.triage import TRIAGE_STATUSES, record_triage

__all__ = [
    "TRIAGE_STATUSES",
    "Mapping",
    "MatchRun",
    "list_mappings",
    "record_triage",
    "rematch_branch",
    "set_mapping",
    "unset_mapping",
]
