"""``load_package``: one source RPM into the store, outside any task (altrepo §3.5).

``package_loader`` exists for source packages girar never built (uploads, imports);
binaries are refused. The package is read and stored as ``load repo`` would store
it (same rows, same ``pkg_hash``); a package already stored is not read again
unless ``force``.

Crash safety, as in the other loaders (``journal``): the load first repairs what a
killed earlier load left half-written, then writes the package's rows with
``PackageHash`` last (the batcher journals the package before its first row), then
forgets its journal entry. Why: without the repair, a load killed after some of the
package's rows and before its ``PackageHash`` row left those rows behind, and the
rerun, finding no ``PackageHash``, wrote every row again: the package was listed
twice, with its files and dependencies twice, for good (once ``PackageHash`` was
there no repair would touch them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from repotrack.errors import InputError
from repotrack.ingest.batch import RowBatcher
from repotrack.ingest.journal import forget, repair
from repotrack.ingest.pipeline import Pipeline
from repotrack.ingest.reader import PackageJob, read_package
from repotrack.ingest.rows import PackageRows
from repotrack.rpm import read_rpm

if TYPE_CHECKING:
    from repotrack.store import Store

__all__ = ["PackageLoadSummary", "load_package"]


@dataclass(frozen=True, slots=True)
class PackageLoadSummary:
    filename: str
    pkg_hash: int
    new: bool
    seconds: float

    def line(self) -> str:
        what = "loaded" if self.new else "already loaded"
        return f"{self.filename}: {what}, pkg_hash {self.pkg_hash} ({self.seconds:.1f} s)"


def load_package(
    store: Store, *, path: Path, force: bool = False, flush: bool = False
) -> PackageLoadSummary:
    """Load the source RPM at ``path``; ``InputError`` for a binary or unreadable file."""
    started = time.monotonic()
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", path=str(path))
    if not read_rpm(str(path)).is_source:
        raise InputError(
            "not a source package (package_loader takes .src.rpm files)", path=str(path)
        )
    repair(store)  # a killed earlier load's partial rows (see the module docstring)
    job = PackageJob(path.name, True, "package", str(path))
    new: PackageRows | None
    if force:
        rows = read_package(job)
        pkg_hash, new = rows.pkg_hash, rows
    else:
        with Pipeline(store) as pipeline:
            (outcome,) = list(pipeline.run(iter([job])))
        pkg_hash, new = outcome.pkg_hash, outcome.rows
    if new is not None:
        batcher = RowBatcher(store)
        batcher.add_package(new)
        batcher.flush()
        forget(store, batcher.load_id)  # the package is complete
    if flush:
        from repotrack.ingest.task import flush_task_buffers

        flush_task_buffers(store)
    return PackageLoadSummary(path.name, pkg_hash, new is not None, time.monotonic() - started)
