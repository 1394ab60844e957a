"""The contract every downstream forge adapter fulfils, and the values it speaks in.

The pipeline only ever sees :class:`Forge`: check the token, find or create an issue,
find or create a pull request. Finding comes first in every case because a run must be
idempotent: a run that failed after opening the issue finds it again by a marker in its
body instead of opening a second one, and a pull request is found by its head branch.

**Fork mode.** A bot rarely has push rights on a distribution's package repositories
(openEuler's ``src-openeuler/*`` take pull requests from forks). Then the branch goes to
the token owner's fork (``fork_of``, created when missing) and the pull request is opened
on the target from ``fork:branch``: every pull-request method takes ``fork``, the
:class:`ForgeTarget` of that fork, or None for a branch of the target itself.

Numbers are strings on purpose: Gitee issue numbers are strings (``I1ABCD``) while its
PR numbers, and everything on GitHub, GitLab (``iid``) and Gitea, are integers; the
pipeline stores and prints them, it never does arithmetic on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Forge", "ForgeTarget", "IssueRef", "PullRef"]


@dataclass(frozen=True)
class ForgeTarget:
    """One downstream repository on one forge.

    ``owner`` may contain ``/`` (GitLab groups and subgroups); ``web_url`` and
    ``api_url`` carry no trailing slash. ``forge_name`` is the ``[forges.<name>]`` key
    whose settings (token, username) apply; for a public host without configuration it
    is the kind.
    """

    kind: str
    api_url: str
    web_url: str
    owner: str
    name: str
    forge_name: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def clone_url(self) -> str:
        """Where git pushes go: ``<web_url>/<owner>/<name>.git``."""
        return f"{self.web_url}/{self.owner}/{self.name}.git"

    @property
    def html_url(self) -> str:
        return f"{self.web_url}/{self.owner}/{self.name}"


@dataclass(frozen=True)
class IssueRef:
    """An issue as the forge numbers it (``I1ABCD`` on Gitee, ``42`` elsewhere) and its web page."""

    number: str
    url: str


@dataclass(frozen=True)
class PullRef:
    """A pull request (GitLab: merge request ``iid``) and its web page."""

    number: str
    url: str


class Forge(Protocol):
    """A downstream forge API, bound to one token and one API base URL.

    Every method raises ``ForgeError`` (with ``status`` when the forge answered) or
    ``RateLimitError`` (with ``retry_at``) when the forge asks for a wait longer than
    the adapter is allowed to sleep.
    """

    kind: str

    def check_token(self) -> None:
        """Raise ``ForgeError(status=401)`` when the token is refused."""

    def find_issue(
        self, target: ForgeTarget, *, marker: str, title: str | None = None
    ) -> IssueRef | None:
        """The first issue, open or closed, whose body contains ``marker`` or whose title
        is exactly ``title`` (a forge may strip the HTML marker; a maintainer may have
        closed the issue), searching a bounded number of pages."""

    def create_issue(self, target: ForgeTarget, *, title: str, body: str) -> IssueRef:
        """Open an issue; a retried request never opens a second one."""

    def find_pull_request(
        self, target: ForgeTarget, *, head: str, fork: ForgeTarget | None = None
    ) -> PullRef | None:
        """The pull request, open or closed, whose source branch is ``head`` (of ``fork``
        when given, else of ``target``): a closed one is not opened again."""

    def create_pull_request(
        self,
        target: ForgeTarget,
        *,
        title: str,
        body: str,
        head: str,
        base: str,
        fork: ForgeTarget | None = None,
    ) -> PullRef:
        """Open a pull request from ``head`` (of ``fork`` when given) into ``base``; when
        one is already open for that head (a duplicate refused by the forge), that one is
        returned."""

    def repo_info(self, target: ForgeTarget) -> dict[str, Any] | None:
        """The forge's record of the repository (its JSON object), or None on 404."""

    def token_owner(self) -> str:
        """The login of the token's owner (``GET /user``), the namespace forks go to."""

    def find_fork(self, target: ForgeTarget, owner: str) -> ForgeTarget | None:
        """``owner``'s fork of ``target`` (same name), or None when there is none.

        Raises ``ConflictError`` when ``owner`` has a repository of that name that is not
        a fork of ``target``: pushing there would open pull requests from the wrong place.
        """

    def create_fork(self, target: ForgeTarget) -> ForgeTarget:
        """Ask the forge to fork ``target`` into the token owner's namespace.

        GitHub and GitLab fork in the background: the answer comes before the fork is
        usable, so callers wait with :meth:`fork_ready`.
        """

    def fork_ready(self, fork: ForgeTarget) -> bool:
        """Whether the fork exists and has finished copying (GitLab's ``import_status``,
        GitHub's default branch being readable: its record exists before its git objects)."""
