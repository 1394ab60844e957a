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

    def check_tree(self, params: RepoLoad | ImageLoad) -> None:
        """The root check again, then every symlink under the tree (followed once each).

        An image load reads one file, by repotrack's own readers (nothing inside the
        image is looked up on this machine): the file must be a regular one.
        """
        self.check_root(params.path)
        root = Path(os.path.realpath(params.path))
        if not isinstance(params, RepoLoad):
            if not root.is_file():
                _refuse_special(root, root.name)
            return
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


def _refuse_special(path: Path, rel: str) -> None:
    """A FIFO, device or socket is refused; a dangling link is left to the loader."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        raise InputError(f"{rel} is a FIFO, device or socket, not a file; refusing to read it")
