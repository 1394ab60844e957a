"""What the four adapters share: construction of the HTTP door and reading answers.

Each adapter is a thin translation of the :class:`~repotrack.tracking.forges.base.Forge`
contract into one forge's endpoints; the retry and rate-limit policy is not here but in
:mod:`repotrack.tracking.forges.http`, and so is the guard that keeps a retried POST from
creating a second object.
"""

from __future__ import annotations

import time
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from repotrack.errors import ConflictError, ForgeError
from repotrack.tracking.forges.base import ForgeTarget, IssueRef, PullRef
from repotrack.tracking.forges.http import DEFAULT_MAX_WAIT, ForgeHttp

__all__ = ["HttpForge", "JsonIssueForge", "quote_segment"]


def issue_matcher(
    marker: str, title: str | None, *, body_key: str
) -> Callable[[Mapping[str, Any]], bool]:
    """Our issue: the marker in its body, or (the marker stripped) exactly its title."""

    def match(item: Mapping[str, Any]) -> bool:
        if marker in (item.get(body_key) or ""):
            return True
        return title is not None and item.get("title") == title

    return match


def quote_segment(value: str) -> str:
    """One URL path segment, every reserved character encoded (GitLab's ``group%2Fname``)."""
    return urllib.parse.quote(value, safe="")


class HttpForge(ABC):
    """Base of the adapters: owns a :class:`ForgeHttp` and reads refs out of answers.

    Subclasses implement the :class:`~repotrack.tracking.forges.base.Forge` methods and,
    when the token travels in a header, ``auth_headers`` (Gitee uses parameters instead).
    """

    kind = ""

    def __init__(
        self,
        *,
        token: SecretStr | None,
        api_url: str,
        timeout: float,
        max_retries: int,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        self._token = token.get_secret_value() if token is not None else ""
        self.http = ForgeHttp(
            forge=self.kind,
            api_url=api_url,
            headers=self.auth_headers(self._token),
            secrets=[self._token],
            timeout=timeout,
            max_retries=max_retries,
            max_wait=max_wait,
            transport=transport,
            sleep=sleep,
        )

    def auth_headers(self, token: str) -> Mapping[str, str]:
        return {}

    @abstractmethod
    def check_token(self) -> None: ...

    @abstractmethod
    def find_issue(
        self, target: ForgeTarget, *, marker: str, title: str | None = None
    ) -> IssueRef | None: ...

    @abstractmethod
    def create_issue(self, target: ForgeTarget, *, title: str, body: str) -> IssueRef: ...

    @abstractmethod
    def find_pull_request(
        self, target: ForgeTarget, *, head: str, fork: ForgeTarget | None = None
    ) -> PullRef | None: ...

    @abstractmethod
    def create_pull_request(
        self,
        target: ForgeTarget,
        *,
        title: str,
        body: str,
        head: str,
        base: str,
        fork: ForgeTarget | None = None,
    ) -> PullRef: ...

    # -- forks: GitHub, Gitee and Gitea share the shapes (GitLab overrides) --------------
    #: The key of the login in ``GET /user``.
    login_key = "login"

    def auth_params(self) -> dict[str, str]:
        """Query (and form) parameters carrying the token; only Gitee has any."""
        return {}

    def token_owner(self) -> str:
        response = self.http.request("GET", "/user", params=self.auth_params() or None)
        return str(self.field(self.http.json(response), self.login_key))

    def repo_info(self, target: ForgeTarget) -> dict[str, Any] | None:
        """``GET /repos/{owner}/{name}``, or None when the forge answers 404."""
        try:
            response = self.http.request(
                "GET", self.repo_path(target), params=self.auth_params() or None
            )
        except ForgeError as exc:
            if exc.status == 404:
                return None
            raise
        item = self.http.json(response)
        return item if isinstance(item, dict) else None

    def find_fork(self, target: ForgeTarget, owner: str) -> ForgeTarget | None:
        fork = replace(target, owner=owner)
        item = self.repo_info(fork)
        if item is None:
            return None
        parent = (item.get("parent") or {}).get("full_name") or ""
        if not item.get("fork") or parent.lower() != target.full_name.lower():
            raise ConflictError(
                f"{fork.html_url} exists and is not a fork of {target.full_name}; "
                "rename it or turn fork mode off"
            )
        return fork

    def create_fork(self, target: ForgeTarget) -> ForgeTarget:
        def post() -> ForgeTarget:
            path = f"{self.repo_path(target)}/forks"
            auth = self.auth_params()
            if auth:  # Gitee: form-encoded, token in the body as for its other writes
                response = self.http.request("POST", path, data=auth, expect=(201, 202))
            else:
                response = self.http.request("POST", path, json_body={}, expect=(201, 202))
            full_name = str(self.field(self.http.json(response), "full_name"))
            owner, _, name = full_name.rpartition("/")
            return replace(target, owner=owner, name=name)

        return self.http.create_guarded(post, lambda: self.find_fork(target, self.token_owner()))

    def fork_ready(self, fork: ForgeTarget) -> bool:
        return self.repo_info(fork) is not None

    @staticmethod
    def head_matches(
        item: Mapping[str, Any], head: str, target: ForgeTarget, fork: ForgeTarget | None
    ) -> bool:
        """A listed pull request's head is ``head`` of ``fork`` (or of ``target``).

        A head without ``repo`` (some older answers) counts as the target's own branch.
        """
        got = item.get("head") or {}
        if got.get("ref") != head:
            return False
        repo = (got.get("repo") or {}).get("full_name")
        where = fork if fork is not None else target
        return (repo or target.full_name).lower() == where.full_name.lower()

    def close(self) -> None:
        self.http.close()

    def __repr__(self) -> str:  # never shows the token
        return f"<{type(self).__name__} {self.http.api_url}>"

    # -- reading answers ----------------------------------------------------------------
    def field(self, item: Mapping[str, Any], key: str) -> Any:
        value = item.get(key)
        if value is None or value == "":
            raise ForgeError(f"answer lacks {key!r}", forge=self.kind)
        return value

    def issue_ref(
        self, item: Mapping[str, Any], *, number: str = "number", url: str = "html_url"
    ) -> IssueRef:
        return IssueRef(number=str(self.field(item, number)), url=str(self.field(item, url)))

    def pull_ref(
        self, item: Mapping[str, Any], *, number: str = "number", url: str = "html_url"
    ) -> PullRef:
        return PullRef(number=str(self.field(item, number)), url=str(self.field(item, url)))

    def repo_path(self, target: ForgeTarget) -> str:
        """``/repos/{owner}/{name}`` (GitHub, Gitee, Gitea)."""
        return f"/repos/{quote_segment(target.owner)}/{quote_segment(target.name)}"


class JsonIssueForge(HttpForge):
    """Issue handling shared by forges with GitHub-shaped issue APIs (GitHub, Gitea/Forgejo).

    Both take ``{"title", "body"}`` as JSON on ``POST <repo>/issues``, list issues of any
    state (pull requests included, marked by a ``pull_request`` key) and check tokens on
    ``GET /user``. Subclasses say how the list is asked for and paged.
    """

    #: Query parameters of the open-issue listing.
    issue_list_params: ClassVar[Mapping[str, str]] = {"state": "all"}
    #: The page-size parameter and its value.
    page_size_param = "per_page"
    page_size = 100
    #: The status with which ``POST <repo>/pulls`` refuses a second PR for the same head.
    duplicate_pull_status = 422

    def check_token(self) -> None:
        self.http.request("GET", "/user")

    def find_issue(
        self, target: ForgeTarget, *, marker: str, title: str | None = None
    ) -> IssueRef | None:
        return self._find_issue(target, issue_matcher(marker, title, body_key="body"))

    def create_issue(self, target: ForgeTarget, *, title: str, body: str) -> IssueRef:
        def post() -> IssueRef:
            path = f"{self.repo_path(target)}/issues"
            payload = {"title": title, "body": body}
            response = self.http.request("POST", path, json_body=payload, expect=(201,))
            return self.issue_ref(self.http.json(response))

        def same(item: Mapping[str, Any]) -> bool:
            return item.get("title") == title and (item.get("body") or "") == body

        return self.http.create_guarded(post, lambda: self._find_issue(target, same))

    def _find_issue(
        self, target: ForgeTarget, match: Callable[[Mapping[str, Any]], bool]
    ) -> IssueRef | None:
        path = f"{self.repo_path(target)}/issues"
        pages = self.http.paginate(
            path, self.issue_list_params, size_param=self.page_size_param, size=self.page_size
        )
        for item in pages:
            if not item.get("pull_request") and match(item):
                return self.issue_ref(item)
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
            # A fork's branch is named ``owner:branch`` (GitHub, Gitea alike).
            source = f"{fork.owner}:{head}" if fork is not None else head
            payload = {"title": title, "head": source, "base": base, "body": body}
            path = f"{self.repo_path(target)}/pulls"
            try:
                response = self.http.request("POST", path, json_body=payload, expect=(201,))
            except ForgeError as exc:
                # The forge already has an open PR for this head: reuse it.
                duplicate = exc.status == self.duplicate_pull_status
                existing = find() if duplicate else None
                if existing is None:
                    raise
                return existing
            return self.pull_ref(self.http.json(response))

        return self.http.create_guarded(post, find)
