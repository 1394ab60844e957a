"""Versions and revision histories of exported CSAF VEX documents (``CsafRevisions``).

Why: CSAF consumers (aggregators, Secvisogram, Dependency-Track) take a tracking id and
version for one document (CSAF 2.0 §3.2.1.12), so a re-export whose verdicts changed
must say version 2 and keep revision 1 in its history, or the change is never seen. The
export is rebuilt from the verdicts each time, and verdicts keep no history, so the
revisions are stored: per document id, each version with the SHA-256 of the content it
was given for (everything but the tracking object), its date and summary.

An export compares each document's digest with its latest revision's: the same, and the
stored history is the document's; different (or none), and it claims the next version.
Claims are re-read: where two writers claimed one version for different content, the
earliest claim holds it and the other writer claims the next (a lock serialises the
writers of one process, which is every writer of an embedded store).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from repotrack.errors import StoreError
from repotrack.store.base import Store

__all__ = ["revise"]

FIRST_SUMMARY: Final = "State of the branch."
CHANGED_SUMMARY: Final = "The branch's verdicts changed."
#: Rounds of claiming before giving up (each lost round means another writer claimed
#: the same version with other content at the same moment).
MAX_ROUNDS: Final = 5
_LOCK = threading.Lock()
_COLUMNS: Final = ("csaf_id", "csaf_version", "csaf_digest", "csaf_date", "csaf_summary")


@dataclass(frozen=True)
class _Revision:
    version: int
    digest: str
    date: datetime
    summary: str


def revise(store: Store, documents: list[dict[str, Any]]) -> None:
    """Give each document (as ``to_csaf`` built it) its stored version and revisions,
    claiming the next version for a document whose content changed."""
    if not documents:
        return
    by_id = {_id(d): d for d in documents}
    digests = {doc_id: _digest(d) for doc_id, d in by_id.items()}
    with _LOCK:
        for round_ in range(MAX_ROUNDS + 1):
            history = _histories(store, sorted(digests))
            claims = [
                _claim(doc_id, digest, history.get(doc_id, []), by_id[doc_id])
                for doc_id, digest in digests.items()
                if not history.get(doc_id) or history[doc_id][-1].digest != digest
            ]
            if not claims:
                break
            if round_ == MAX_ROUNDS:
                raise StoreError(
                    "CSAF revisions: other writers kept claiming the same versions; export again"
                )
            store.insert("CsafRevisions", _COLUMNS, claims)
    for doc_id, document in by_id.items():
        _apply(document, history[doc_id])


def _id(document: dict[str, Any]) -> str:
    return str(document["document"]["tracking"]["id"])


def _digest(document: dict[str, Any]) -> str:
    content = {**document, "document": dict(document["document"])}
    del content["document"]["tracking"]
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _histories(store: Store, ids: list[str]) -> dict[str, list[_Revision]]:
    """Each document's revisions by version; a version's earliest claim holds it."""
    rows = store.query(
        "SELECT csaf_id, csaf_version, argMin(csaf_digest, (ts, csaf_digest)), "
        "argMin(csaf_date, (ts, csaf_digest)), argMin(csaf_summary, (ts, csaf_digest)) "
        "FROM CsafRevisions WHERE csaf_id IN {ids:Array(String)} "
        "GROUP BY csaf_id, csaf_version ORDER BY csaf_id, csaf_version",
        {"ids": ids},
    )
    history: dict[str, list[_Revision]] = {}
    for doc_id, version, digest, when, summary in rows:
        history.setdefault(str(doc_id), []).append(
            _Revision(int(version), str(digest), _utc(when), str(summary))
        )
    return history


def _claim(
    doc_id: str, digest: str, history: list[_Revision], built: dict[str, Any]
) -> tuple[str, int, str, datetime, str]:
    when = _parse(built["document"]["tracking"]["current_release_date"])
    if not history:
        return (doc_id, 1, digest, when, FIRST_SUMMARY)
    last = history[-1]
    # A revision is never dated before the one it follows (CSAF §6.1.14, sorted history).
    return (doc_id, last.version + 1, digest, max(when, last.date), CHANGED_SUMMARY)


def _apply(document: dict[str, Any], history: list[_Revision]) -> None:
    tracking = document["document"]["tracking"]
    tracking["revision_history"] = [
        {"date": _stamp(r.date), "number": str(r.version), "summary": r.summary} for r in history
    ]
    tracking["version"] = str(history[-1].version)
    tracking["initial_release_date"] = _stamp(history[0].date)
    tracking["current_release_date"] = _stamp(history[-1].date)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
