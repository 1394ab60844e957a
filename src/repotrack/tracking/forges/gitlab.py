"""GitLab REST v4 (gitlab.com and self-managed).

``PRIVATE-TOKEN`` header, JSON bodies. The project is addressed by its full path with
every ``/`` encoded (``group%2Fsub%2Fname``), which is how subgroups work without a
numeric id lookup. Issues and merge requests are numbered per project by ``iid``; that is
the number returned. Merge requests carry ``source_branch``/``target_branch`` and
``remove_source_branch=true`` (Gitee's ``prune_source_branch``). Lists are asked for
with ``state=all`` (also GitLab's default): a closed issue or merge request is found, not
made again. A duplicate merge request is refused with 409; the open one is then found
and returned.

Fork mode: ``POST /projects/:id/fork`` answers 201 at once but copies the repository in
a background job; the fork is ready when its ``import_status`` says ``finished``
(``failed`` or ``canceled`` is an error at once). A merge request from a fork is created
on the *fork* (``POST /projects/<fork>/merge_requests``) with ``target_project_id`` set
to the target's numeric id, and found on the target's list by ``source_project_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from repotrack.errors import ConflictError, ForgeError
from repotrack.tracking.forges.base import ForgeTarget, IssueRef, PullRef
from repotrack.tracking.forges.common import HttpForge, issue_matcher, quote_segment

__all__ = ["GitLabForge"]


class GitLabForge(HttpForge):
    kind = "gitlab"
    login_key = "username"

    def auth_headers(self, token: str) -> Mapping[str, str]:
        return {"PRIVATE-TOKEN": token} if token else {}

    def _project(self, target: ForgeTarget) -> str:
        return f"/projects/{quote_segment(target.full_name)}"

    def check_token(self) -> None:
        self.http.request("GET", "/user")

    def find_issue(
        self, target: ForgeTarget, *, marker: str, title: str | None = None
    ) -> IssueRef | None:
        # GitLab's ``search`` narrows the list in the database (no index lag); the
        # matcher is the real test.
        match = issue_matcher(marker, title, body_key="description")
        found = self._find_issue(target, {"search": marker, "in": "description"}, match)
        if found is None and title is not None:
            found = self._find_issue(target, {"search": title, "in": "title"}, match)
        return found

    def create_issue(self, target: ForgeTarget, *, title: str, body: str) -> IssueRef:
        def post() -> IssueRef:
            payload = {"title": title, "description": body}
            path = f"{self._project(target)}/issues"
            response = self.http.request("POST", path, json_body=payload, expect=(201,))
            return self.issue_ref(self.http.json(response), number="iid", url="web_url")

        def same(item: Mapping[str, Any]) -> bool:
            return item.get("title") == title and (item.get("description") or "") == body

        return self.http.create_guarded(
            post, lambda: self._find_issue(target, {"search": title, "in": "title"}, same)
        )

    def _find_issue(
        self,
        target: ForgeTarget,
        filters: Mapping[str, str],
        match: Callable[[Mapping[str, Any]], bool],
    ) -> IssueRef | None:
        params = {"state": "all", **filters}
        for item in self.http.paginate(f"{self._project(target)}/issues", params):
            if match(item):
                return self.issue_ref(item, number="iid", url="web_url")
        return None

    # -- projects and forks -------------------------------------------------------------
    def repo_info(self, target: ForgeTarget) -> dict[str, Any] | None:
        try:
            response = self.http.request("GET", self._project(target))
        except ForgeError as exc:
            if exc.status == 404:
                return None
            raise
        item = self.http.json(response)
        return item if isinstance(item, dict) else None

    def _project_id(self, target: ForgeTarget) -> int:
        item = self.repo_info(target)
        if item is None:
            raise ForgeError(f"project {target.full_name} not found", forge=self.kind, status=404)
        return int(self.field(item, "id"))

    def find_fork(self, target: ForgeTarget, owner: str) -> ForgeTarget | None:
        fork = replace(target, owner=owner)
        item = self.repo_info(fork)
        if item is None:
            return None
        parent = (item.get("forked_from_project") or {}).get("path_with_namespace") or ""
        if parent.lower() != target.full_name.lower():
            raise ConflictError(
                f"{fork.html_url} exists and is not a fork of {target.full_name}; "
                "rename it or turn fork mode off"
            )
        return fork

    def create_fork(self, target: ForgeTarget) -> ForgeTarget:
        def post() -> ForgeTarget:
            path = f"{self._project(target)}/fork"
            response = self.http.request("POST", path, json_body={}, expect=(201, 202))
            full_name = str(self.field(self.http.json(response), "path_with_namespace"))
            owner, _, name = full_name.rpartition("/")
            return replace(target, owner=owner, name=name)

        return self.http.create_guarded(post, lambda: self.find_fork(target, self.token_owner()))

    def fork_ready(self, fork: ForgeTarget) -> bool:
        item = self.repo_info(fork)
        if item is None:
            return False
        status = item.get("import_status") or "none"
        if status in ("failed", "canceled"):  # ended without the copy: it never finishes
            error = item.get("import_error") or "no detail"
            raise ForgeError(f"forking into {fork.full_name} {status}: {error}", forge=self.kind)
        return status in ("finished", "none")

    # -- merge requests -----------------------------------------------------------------
    def find_pull_request(
        self, target: ForgeTarget, *, head: str, fork: ForgeTarget | None = None
    ) -> PullRef | None:
        source_id = self._project_id(fork) if fork is not None else None
        params = {"state": "all", "source_branch": head}
        for item in self.http.paginate(f"{self._project(target)}/merge_requests", params):
            if item.get("source_branch") != head:
                continue
            source = item.get("source_project_id")
            same = source is None or item.get("target_project_id") in (None, source)
            if (source_id is None and same) or (source_id is not None and source == source_id):
                return self.pull_ref(item, number="iid", url="web_url")
        return None

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
        def find() -> PullRef | None:
            return self.find_pull_request(target, head=head, fork=fork)

        def post() -> PullRef:
            payload: dict[str, Any] = {
                "source_branch": head,
                "target_branch": base,
                "title": title,
                "description": body,
                "remove_source_branch": True,
            }
            source = target
            if fork is not None:  # created on the fork, aimed at the target
                payload["target_project_id"] = self._project_id(target)
                source = fork
            path = f"{self._project(source)}/merge_requests"
            try:
                response = self.http.request("POST", path, json_body=payload, expect=(201,))
            except ForgeError as exc:
                # 409 "Another open merge request already exists for this source branch".
                existing = find() if exc.status == 409 else None
                if existing is None:
                    raise
                return existing
            return self.pull_ref(self.http.json(response), number="iid", url="web_url")

        return self.http.create_guarded(post, find)
