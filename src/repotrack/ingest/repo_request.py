"""What a repository load is asked and what it answers: ``RepoLoad``, ``LoadSummary``.

Kept apart from ``ingest.repo`` (the loader itself) so that a face which only sends
a load elsewhere (``repotrack load repo`` handing it to the running service) does not
import the loader's reader, batcher and pipeline: 0.07 s of every hand-off's start.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from repotrack.store import Store

__all__ = ["MAX_WORKERS", "LoadProgress", "LoadSummary", "RepoLoad"]

MAX_WORKERS = 64


class LoadProgress(Protocol):
    """Told the number of packages once planned, then each package as it is done
    (a progress bar, a log, a job record)."""

    def start(self, *, total: int) -> None: ...

    def advance(self, *, new: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class LoadSummary:
    """What a load did."""

    branch: str
    date: date
    tag: str
    kind: str
    root_uuid: uuid.UUID
    packages: int
    new: int
    known: int
    files: int
    seconds: float
    #: Packages left out as damaged or unreadable (``skip_bad``): file name and reason.
    bad: tuple[tuple[str, str], ...] = ()

    def line(self) -> str:
        rate = self.packages / self.seconds if self.seconds > 0 else 0.0
        left_out = f", {len(self.bad)} bad left out" if self.bad else ""
        return (
            f"{self.branch} {self.date.isoformat()}: {self.packages} packages "
            f"({self.new} new, {self.known} known{left_out}), {self.files} file rows, "
            f"{self.seconds:.1f} s ({rate:.0f} packages/s)"
        )


@dataclass(frozen=True, slots=True)
class RepoLoad:
    """The arguments of one repository load, as every face receives them.

    The CLI runs it here or sends it to the service (``as_dict`` is the body of
    ``POST /api/v1/loads``); the service's job runner runs it there. ``path`` is read
    by whichever process runs the load.
    """

    branch: str
    path: Path
    date: date
    tag: str = ""
    force: bool = False
    workers: int = 1
    skip_bad: bool = False
    verify_known: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": "repo",
            "branch": self.branch,
            "path": str(self.path),
            "date": self.date.isoformat(),
            "tag": self.tag,
            "force": self.force,
            "workers": self.workers,
            "skip_bad": self.skip_bad,
            "verify_known": self.verify_known,
        }

    def run(self, store: Store, progress: LoadProgress | None = None) -> LoadSummary:
        from repotrack.ingest.repo import load_repo

        return load_repo(
            store,
            branch=self.branch,
            path=self.path,
            date=self.date,
            tag=self.tag,
            force=self.force,
            workers=self.workers,
            skip_bad=self.skip_bad,
            verify_known=self.verify_known,
            progress=progress,
        )
