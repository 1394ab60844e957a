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
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from repotrack.errors import ForgeError
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
    def find_pull_request(self, target: ForgeTarget, *, head: str) -> PullRef | None: ...

    @abstractmethod
    def create_pull_request(
        self, target: ForgeTarget, *, title: str, body: str, head: str, base: str
    ) -> PullRef: ...

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

    Both take ``{"title", "body"}`` as JSON on ``POST <repo>/issues``, list open issues
    (pull requests included, marked by a ``pull_request`` key) and check tokens on
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
        self, target: ForgeTarget, *, title: str, body: str, head: str, base: str
    ) -> PullRef:
        def post() -> PullRef:
            payload = {"title": title, "head": head, "base": base, "body": body}
            path = f"{self.repo_path(target)}/pulls"
            try:
                response = self.http.request("POST", path, json_body=payload, expect=(201,))
            except ForgeError as exc:
                # The forge already has an open PR for this head: reuse it.
                duplicate = exc.status == self.duplicate_pull_status
                existing = self.find_pull_request(target, head=head) if duplicate else None
                if existing is None:
                    raise
                return existing
            return self.pull_ref(self.http.json(response))

        return self.http.create_guarded(post, lambda: self.find_pull_request(target, head=head))
