"""The cheap first half of a scan: one ``git ls-remote`` per upstream, quiet items settled at once.

Most scans find nothing new. Running the whole pipeline for such an item cost four git
processes (fetch, two rev-parse, check-ref-format) and six commits; 200 items took
5.2 s. Here a scan first asks every distinct upstream URL for its branch heads, once
and concurrently (``git ls-remote --heads``, which reads only the ref advertisement;
for HTTP(S) and local upstreams the same list is read in-process, see ``refads``), and
compares each item's ``scm_commit`` with its branch head:

- equal: nothing new. All such items are recorded in **one transaction**: a
  ``nothing-new`` run row each, health reset, ``commits_behind`` 0. Items another run
  holds the lock of are left alone, and an item edited meanwhile (its ``scm_commit``
  changed) is not touched: the update is conditional on the value compared.
- anything else (the branch moved, no start commit yet, the URL refused, the remote
  unreachable, the branch missing): the item takes the full pipeline, which fetches
  its mirror and reports any error with the item's usual failure and backoff.

The mirror is never fetched for a quiet item: it is brought up to date only when
there is something to read from it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from repotrack.errors import RepotrackError
from repotrack.state import Run, StateDB, Tracking, utcnow
from repotrack.tracking.locks import held_lock_ids
from repotrack.tracking.refads import local_heads
from repotrack.tracking.upstream import is_local_url, redact_url, run_git

__all__ = ["Candidate", "list_heads", "remote_heads", "settle_quiet", "split_quiet"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """One selected item as the quick check needs it; ``url`` None: refused, run in full."""

    item_id: int
    url: str | None
    branch: str
    scm_commit: str | None


def list_heads(url: str, *, timeout: float) -> dict[str, str]:
    """``refs/heads/<name>`` -> sha as the remote advertises them (one git process)."""
    out = run_git(
        ["ls-remote", "--heads", "--", url],
        timeout=timeout,
        url=url,
        allow_file=is_local_url(url),
    )
    heads: dict[str, str] = {}
    for line in out.decode("utf-8", "replace").splitlines():
        sha, _, ref = line.partition("\t")
        if ref.startswith("refs/heads/") and sha:
            heads[ref] = sha
    return heads


def remote_heads(
    urls: Iterable[str], *, workers: int, timeout: float
) -> dict[str, dict[str, str] | None]:
    """Heads of each URL, asked concurrently; ``None`` for a URL that could not be read.

    HTTP(S) upstreams are asked in-process over one kept-alive client, local ones are
    read from their files (``refads``); other URLs, and anything ``refads`` cannot read,
    go to ``git ls-remote``.
    """
    unique = sorted(set(urls))
    if not unique:
        return {}
    client = None
    if any(url.startswith(("https://", "http://")) for url in unique):
        from repotrack.tracking.refads import http_client

        client = http_client(timeout=timeout, workers=workers)

    def ask(url: str) -> tuple[str, dict[str, str] | None]:
        found = None
        if client is not None and url.startswith(("https://", "http://")):
            from repotrack.tracking.refads import http_heads

            found = http_heads(client, url)
        elif is_local_url(url):
            found = local_heads(url)
        if found is not None:
            return url, found
        try:
            return url, list_heads(url, timeout=timeout)
        except RepotrackError as exc:
            log.info("ls-remote failed", extra={"url": redact_url(url), "error": str(exc)})
            return url, None

    try:
        with ThreadPoolExecutor(
            max_workers=max(1, workers), thread_name_prefix="ls-remote"
        ) as pool:
            return dict(pool.map(ask, unique))
    finally:
        if client is not None:
            client.close()


def split_quiet(
    candidates: Sequence[Candidate], heads: dict[str, dict[str, str] | None]
) -> tuple[list[Candidate], list[Candidate]]:
    """(quiet, to run): quiet items' branch head equals their ``scm_commit``."""
    quiet: list[Candidate] = []
    rest: list[Candidate] = []
    for item in candidates:
        known = heads.get(item.url) if item.url is not None else None
        head = known.get(f"refs/heads/{item.branch}") if known is not None else None
        if item.scm_commit and head is not None and head.lower() == item.scm_commit.lower():
            quiet.append(item)
        else:
            rest.append(item)
    return quiet, rest


def settle_quiet(db: StateDB, quiet: Sequence[Candidate]) -> tuple[list[int], list[int]]:
    """Record ``quiet`` items as nothing-new in one transaction; returns (settled, left).

    ``left`` are items that could not be settled here (locked by a run, edited or
    disabled meanwhile); the caller runs them in full, which sorts each case out.
    """
    if not quiet:
        return [], []
    with db.session() as session:
        busy = held_lock_ids(session, [item.item_id for item in quiet])
        free = [item for item in quiet if item.item_id not in busy]
        reset = _reset(session, free)
        settled = [item for item in free if item.item_id in reset]
        _record_runs(session, settled)
    done = [item.item_id for item in settled]
    settled_ids = set(done)
    return done, [item.item_id for item in quiet if item.item_id not in settled_ids]


def _reset(session: Session, items: Sequence[Candidate]) -> set[int]:
    """Health back to clean for the items still as compared (enabled, same commit): one
    UPDATE for all of them; returns the ids it changed."""
    if not items:
        return set()
    pairs = [(item.item_id, item.scm_commit) for item in items]
    statement = (
        sa.update(Tracking)
        .where(sa.tuple_(Tracking.id, Tracking.scm_commit).in_(pairs), Tracking.enabled.is_(True))
        .values(consecutive_failures=0, last_error=None, backoff_until=None, commits_behind=0)
        .returning(Tracking.id)
        .execution_options(synchronize_session=False)
    )
    return {int(item_id) for item_id in session.scalars(statement)}


def _record_runs(session: Session, settled: Sequence[Candidate]) -> None:
    if not settled:
        return
    ids = [item.item_id for item in settled]
    now = utcnow()
    # A run a crashed process left "running" is over; the lock check above saw no owner.
    session.execute(
        sa.update(Run)
        .where(Run.tracking_id.in_(ids), Run.outcome == "running")
        .values(outcome="failed", error="interrupted", finished_at=now)
    )
    session.execute(
        sa.insert(Run),
        [
            {
                "tracking_id": item.item_id,
                "started_at": now,
                "finished_at": now,
                "outcome": "nothing-new",
                "commits_processed": 0,
                "from_commit": item.scm_commit,
                "to_commit": item.scm_commit,
            }
            for item in settled
        ],
    )
