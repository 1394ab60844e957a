"""Which directories the service may read loads from (``[loads] allowed_roots``).

A load names a path on the service's machine, and the loader reads whatever is there
with the service's rights. Probed with a tree linking to ``/etc/shadow``, the job
record echoed the file's first bytes. So the service reads loads only under the
directories its administrator names (none by default: until then ``POST
/api/v1/loads`` is refused), and before a load starts its tree is walked once: every
symlink in it must resolve inside an allowed root too, or the load fails naming the
link (relative to the tree, never its target), and so must a FIFO, device or socket
anywhere in it (opening one could block the load forever). The local CLI is not
confined: it reads with its user's own rights.

What this does not cover: a link swapped between the walk and the read. The walk
narrows the window to the length of one load; an administrator who lets untrusted
users write under an allowed root should not allow that root.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from repotrack.errors import InputError
from repotrack.ingest.repo import RepoLoad
from repotrack.ingest.task_jobs import PackageLoadRequest, TaskCleanRequest, TaskLoadRequest
from repotrack.ingest.vulns import VulnLoad

if TYPE_CHECKING:
    from repotrack.ingest.image import ImageLoad

__all__ = ["Confinement"]

_UNSET = (
    "this service reads no load paths yet: its administrator must name the directories "
    "it may read in [loads] allowed_roots"
)
_OUTSIDE = "is outside the directories this service may read ([loads] allowed_roots)"


class Confinement:
    """The allowed roots, resolved once; ``check_root`` at submission, ``check_tree`` in the job."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = tuple(Path(os.path.realpath(root)) for root in roots)

    def _inside(self, real: Path) -> bool:
        return any(real == root or real.is_relative_to(root) for root in self.roots)

    def check_root(self, path: Path) -> None:
        """Refuse a load path outside every allowed root (symlinks resolved)."""
        if not self.roots:
            raise InputError(_UNSET, field="path")
        if not self._inside(Path(os.path.realpath(path))):
            raise InputError(_OUTSIDE, field="path")

    def check_job(
        self,
        params: RepoLoad
        | ImageLoad
        | TaskLoadRequest
        | PackageLoadRequest
        | TaskCleanRequest
        | VulnLoad,
    ) -> None:
        """What a job reads, checked in the job before it starts.

        A repository tree and each task directory are walked (``check_tree``); a source
        package must be a regular file under a root. ``tasks clean`` only looks whether
        each open task's directory exists and reads its one-word ``task/state`` (never
        echoing anything else), so its tasks tree, possibly huge, is not walked. A
        vulnerability load's directories are walked and its files must be regular ones
        under a root (its URLs are the job's to fetch). An image
        load reads one file, by repotrack's own readers (nothing inside the image is
        looked up on this machine): the file must be a regular one.
        """
        if isinstance(params, RepoLoad):
            self.check_tree(params.path)
        elif isinstance(params, TaskLoadRequest):
            for path in params.paths:
                self.check_tree(path, names_only=_TASK_NAME_LINKS)
        elif isinstance(params, PackageLoadRequest):
            self.check_root(params.path)
            _refuse_special(Path(os.path.realpath(params.path)), params.path.name)
        elif isinstance(params, TaskCleanRequest):
            self.check_root(params.tasks_dir)
        elif isinstance(params, VulnLoad):
            for path in params.read_paths():  # URLs are fetched, not read here
                if Path(os.path.realpath(path)).is_dir():
                    self.check_tree(path)
                else:
                    self.check_root(path)
                    _refuse_special(Path(os.path.realpath(path)), path.name)
        else:
            self.check_root(params.path)
            root = Path(os.path.realpath(params.path))
            if not root.is_file():
                _refuse_special(root, root.name)

    def check_tree(self, path: Path, *, names_only: frozenset[str] = frozenset()) -> None:
        """The root check again, then every symlink under the tree (followed once each).

        ``names_only``: links (relative to the tree) whose target the loader only reads
        as a name, never opens, so they may point anywhere and are not followed.
        """
        self.check_root(path)
        root = Path(os.path.realpath(path))
        seen = {root}
        pending = [("", root)]
        while pending:
            prefix, directory = pending.pop()
            try:
                entries = list(os.scandir(directory))
            except OSError as exc:
                raise InputError(f"cannot list: {exc.strerror or exc}", path=prefix or ".") from exc
            for entry in entries:
                rel = prefix + entry.name
                if rel in names_only and entry.is_symlink():
                    continue
                real = Path(os.path.realpath(entry.path)) if entry.is_symlink() else None
                if real is not None and not self._inside(real):
                    raise InputError(f"symlink {rel} leads outside [loads] allowed_roots")
                target = real or Path(entry.path)
                if entry.is_dir():
                    if target not in seen:
                        seen.add(target)
                        pending.append((rel + "/", target))
                elif not entry.is_file():
                    _refuse_special(target, rel)


#: girar's ``build/repo/prev`` names the previous repository (``/tasks/archive/_1/2000``):
#: the task reader takes the id from the link's text and never follows it.
_TASK_NAME_LINKS = frozenset({"build/repo/prev"})


def _refuse_special(path: Path, rel: str) -> None:
    """A FIFO, device or socket is refused; a dangling link is left to the loader."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        raise InputError(f"{rel} is a FIFO, device or socket, not a file; refusing to read it")
