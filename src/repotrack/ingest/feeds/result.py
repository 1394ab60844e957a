"""What one feed run did: rows added, why nothing was added, lines skipped."""

from __future__ import annotations

from dataclasses import dataclass, field

from repotrack.sources.feeds import Problem

__all__ = ["MAX_REPORTED_PROBLEMS", "FeedResult"]

#: Problems kept in a result; a feed with thousands of bad lines reports a count.
MAX_REPORTED_PROBLEMS = 50


@dataclass
class FeedResult:
    """``rows`` added to the store; ``note`` says why a run added nothing on purpose."""

    feed: str
    rows: int = 0
    note: str = ""
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0

    def add_problems(self, problems: list[Problem]) -> None:
        self.skipped += len(problems)
        room = MAX_REPORTED_PROBLEMS - len(self.problems)
        self.problems.extend(problems[: max(room, 0)])

    def line(self) -> str:
        text = f"{self.feed}: {self.rows} rows added"
        if self.note:
            text += f" ({self.note})"
        if self.skipped:
            text += f"; {self.skipped} lines skipped"
        return text
