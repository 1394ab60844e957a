"""GitHub REST (github.com, GHES ``https://HOST/api/v3``, GHE.com).

Bearer token, JSON bodies, ``Accept: application/vnd.github+json`` and a pinned
``X-GitHub-Api-Version`` (``2022-11-28``, supported until 2028; a request without the
header would get whatever default GitHub picks). Existing pull requests are found with
``head=OWNER:BRANCH`` (the documented form; a bare branch is not) and re-checked on
``head.ref``. Issues are found by listing open issues, skipping pull requests (which the
issue list includes); the search API is an index that lags behind a just-created issue,
which is exactly the case a retry must see.

Fork mode: ``POST /repos/{owner}/{repo}/forks`` answers 202 and forks in the background
("you may have to wait a short period of time before you can access the git objects").
The 202 carries the fork's repository, so ``GET /repos/{login}/{name}`` finds it at once:
that says nothing about its git objects. The fork is ready once its default branch can
be read (``GET /repos/{login}/{name}/branches/{default_branch}`` answers 200, not 404),
which needs them. Pull requests then come from ``login:branch``.
"""

from __future__ import annotations

from collections.abc import Mapping

from repotrack.errors import ForgeError
from repotrack.tracking.forges.base import ForgeTarget, PullRef
from repotrack.tracking.forges.common import JsonIssueForge, quote_segment

__all__ = ["GITHUB_API_URL", "GITHUB_API_VERSION", "GitHubForge"]

GITHUB_API_URL = "https://api.github.com"
GITHUB_API_VERSION = "2022-11-28"


class GitHubForge(JsonIssueForge):
    kind = "github"
    #: 422 "A pull request already exists for OWNER:BRANCH"
    duplicate_pull_status = 422

    def auth_headers(self, token: str) -> Mapping[str, str]:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": GITHUB_API_VERSION,
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def find_pull_request(
        self, target: ForgeTarget, *, head: str, fork: ForgeTarget | None = None
    ) -> PullRef | None:
        owner = fork.owner if fork is not None else target.owner
        params = {"state": "all", "head": f"{owner}:{head}"}
        for item in self.http.paginate(f"{self.repo_path(target)}/pulls", params):
            if self.head_matches(item, head, target, fork):
                return self.pull_ref(item)
        return None

    def fork_ready(self, fork: ForgeTarget) -> bool:
        """The fork exists *and* its git objects are there (module docstring)."""
        item = self.repo_info(fork)
        if item is None:
            return False
        branch = item.get("default_branch")
        if not branch:  # an empty repository: no git objects to wait for
            return True
        path = f"{self.repo_path(fork)}/branches/{quote_segment(str(branch))}"
        try:
            self.http.request("GET", path)
        except ForgeError as exc:
            if exc.status == 404:
                return False
            raise
        return True
