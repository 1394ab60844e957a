"""Reading the small files of a task directory, every failure naming the task and the file."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from repotrack.errors import TaskDataError

__all__ = ["EPOCH", "TaskFiles", "text_lines"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TaskFiles:
    """Files under one task directory, read on behalf of task ``task``."""

    def __init__(self, root: Path, task: int | str) -> None:
        self.root = root
        self.task = task

    def error(self, path: Path, message: str) -> TaskDataError:
        return TaskDataError(message, task=self.task, path=str(path))

    def text(self, path: Path, *, default: str | None = "") -> str:
        """The file's text, stripped; ``default`` when absent (None: it is required)."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            if default is None:
                raise self.error(path, "required file is missing") from None
            return default
        except OSError as exc:
            raise self.error(path, f"cannot read: {exc.strerror}") from exc
        return data.decode("utf-8", errors="backslashreplace").strip()

    def integer(self, path: Path, *, default: int | None = 0) -> int:
        text = self.text(path, default=None if default is None else "")
        if not text and default is not None:
            return default
        try:
            return int(text)
        except ValueError:
            raise self.error(path, f"expected an integer, got {text[:40]!r}") from None

    def lines(self, path: Path) -> list[str]:
        """Lines of an optional file (absent: none), kept unstripped but without newlines."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise self.error(path, f"cannot read: {exc.strerror}") from exc
        return text_lines(data.decode("utf-8", errors="backslashreplace"))

    def mtime(self, path: Path, *, default: datetime | None = None) -> datetime:
        """The modification time in UTC (of the link itself for symlinks: girar's view)."""
        try:
            seconds = os.lstat(path).st_mtime
        except FileNotFoundError:
            if default is None:
                raise self.error(path, "required file is missing") from None
            return default
        return datetime.fromtimestamp(int(seconds), tz=UTC)


#: Line ends as Python reads a text file (universal newlines).
_LINE_END = re.compile(r"\r\n|\r|\n")


def text_lines(text: str) -> list[str]:
    """``text`` split as a text file is read: at ``\n``, ``\r\n`` and ``\r``, none kept.

    Not ``str.splitlines``, which also breaks at form feeds, ``\x1c``..``\x1e``, U+0085
    and U+2028/U+2029: a girar file's line (an approval's message) may hold them, and it
    was stored with line breaks in their place.
    """
    lines = _LINE_END.split(text)
    if not lines[-1]:
        lines.pop()
    return lines
