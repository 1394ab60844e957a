"""Manual triage decisions (``VulnerabilityStatus``, reference/altrepo.md §6.1).

A decision names a vulnerability, a source package and a branch (``*`` = every
branch) and a status; the next rematch of the branch takes it as the strongest
evidence (``verdict.py``). Decisions are appended, never edited: the latest one per
(vulnerability, package, branch) counts, and the older ones stay as history.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Final

from repotrack.errors import InputError
from repotrack.security.verdict import STATUSES
from repotrack.store.base import Store
from repotrack.store.branches import branch_name

__all__ = ["TRIAGE_STATUSES", "record_triage"]

TRIAGE_STATUSES: Final = STATUSES
_VULN_ID: Final = re.compile(r"^[A-Z][A-Z0-9]*[-:][A-Za-z0-9:._-]+$")


def record_triage(
    store: Store,
    *,
    vuln_id: str,
    pkg_name: str,
    branch: str,
    status: str,
    author: str,
    reason: str = "",
    resolution: str = "",
) -> None:
    """Append one decision; the next rematch of ``branch`` applies it."""
    if not _VULN_ID.match(vuln_id):
        raise InputError(f"{vuln_id!r} is not a vulnerability id", field="vuln_id")
    if status not in TRIAGE_STATUSES:
        raise InputError(f"must be one of {', '.join(TRIAGE_STATUSES)}", field="status")
    if not pkg_name or not branch or not author:
        raise InputError("package, branch and author are required", field="pkg_name")
    branch = branch_name(branch)  # as loads store it: a rematch of the branch applies it
    now = datetime.now(UTC)
    store.insert(
        "VulnerabilityStatus",
        ("vuln_id", "vs_status", "vs_resolution", "vs_reason", "vs_author", "vs_json",
         "vs_subscribers", "vs_updated"),
        [(vuln_id, status, resolution, reason, author,
          json.dumps({"pkg_name": pkg_name, "branch": branch}), [], now)],
    )  # fmt: skip
