"""The endpoints of each fake forge, as the forges' public documentation describes them.

Only what repotrack calls is implemented: the token check (``GET /user``), repository
info, creating and listing issues, creating and listing pull/merge requests. Each dialect
checks what the real forge checks and answers in its shapes (see
``/work/shared/reference/forges.md``):

- Gitee v5: ``access_token`` as a query or body field (or ``Authorization: Bearer``);
  issues are created at the owner level (``POST /repos/{owner}/issues`` + ``repo``);
  issue numbers are strings (``I1ABCD``), PR numbers integers; ``total_page`` headers.
- GitHub: ``Authorization: Bearer|token``, a ``User-Agent``, JSON bodies, an optional
  ``X-GitHub-Api-Version`` that must be a known version; the issue list includes PRs
  (with a ``pull_request`` key); duplicate PR -> 422 ``code: custom``; ``Link`` paging.
- GitLab v4: ``PRIVATE-TOKEN`` (or Bearer); the project id is the URL-encoded full path
  (an unencoded ``/`` finds no route, as behind a decoding proxy); ``iid`` numbering;
  ``state=opened``; duplicate MR -> 409 with a list message.
- Gitea v1: ``Authorization: token``; JSON bodies; ``limit`` capped at 50; duplicate
  PR -> 409 ``pull request already exists for these targets [id: N, issue_id: M, ...]``.
"""

from __future__ import annotations

import math
import string
import urllib.parse
from typing import TYPE_CHECKING, Any

from tests.forges.server import FakeIssue, FakePull, Reply, Request

if TYPE_CHECKING:
    from tests.forges.server import ForgeServer, _RepoState

GITHUB_API_VERSIONS = {"2022-11-28", "2026-03-10"}


def make_dialect(kind: str, forge: ForgeServer) -> Dialect:
    classes: dict[str, type[Dialect]] = {
        "gitee": Gitee,
        "github": GitHub,
        "gitlab": GitLab,
        "gitea": Gitea,
    }
    return classes[kind](forge)


class Dialect:
    """What every fake forge shares: auth first, then a route table; seeding helpers."""

    kind = ""
    open_state = "open"

    def __init__(self, forge: ForgeServer) -> None:
        self.forge = forge

    def dispatch(self, req: Request) -> Reply:
        denied = self.authenticate(req)
        if denied is not None:
            return denied
        return self.route(req)

    def authenticate(self, req: Request) -> Reply | None:
        raise NotImplementedError

    def route(self, req: Request) -> Reply:
        raise NotImplementedError

    # -- numbering and URLs ---------------------------------------------------------------
    def next_issue_number(self, state: _RepoState) -> str:
        number = state.next_number
        state.next_number += 1
        return str(number)

    def next_pull_number(self, state: _RepoState) -> str:
        return self.next_issue_number(state)

    def issue_url(self, full_name: str, number: str) -> str:
        return f"{self.forge.web_url}/{full_name}/issues/{number}"

    def pull_url(self, full_name: str, number: str) -> str:
        return f"{self.forge.web_url}/{full_name}/pulls/{number}"

    # -- state changes ------------------------------------------------------------------
    def seed_issue(self, full_name: str, *, title: str, body: str, state: str) -> FakeIssue:
        with self.forge.locked():
            repo = self.forge.repo_state(full_name)
            number = self.next_issue_number(repo)
            issue = FakeIssue(
                number=number,
                title=title,
                body=body,
                state=state,
                url=self.issue_url(full_name, number),
                id=self.forge.new_id(),
            )
            repo.issues.append(issue)
            return FakeIssue(**vars(issue))

    def seed_pull(
        self,
        full_name: str,
        *,
        title: str,
        body: str,
        head: str,
        base: str,
        state: str,
        head_repo: str = "",
    ) -> FakePull:
        with self.forge.locked():
            repo = self.forge.repo_state(full_name)
            number = self.next_pull_number(repo)
            pull = FakePull(
                number=number,
                title=title,
                body=body,
                head=head,
                base=base,
                state=state,
                url=self.pull_url(full_name, number),
                id=self.forge.new_id(),
                head_repo=head_repo if head_repo != full_name else "",
            )
            repo.pulls.append(pull)
            return FakePull(**vars(pull))

    def create_issue(self, full_name: str, title: str, body: str, fields: dict[str, Any]) -> Any:
        issue = self.seed_issue(full_name, title=title, body=body, state=self.open_state)
        with self.forge.locked():
            stored = self.forge.repo_state(full_name).issues[-1]
            stored.fields = dict(fields)
        issue.fields = dict(fields)
        return issue

    def create_pull(
        self,
        full_name: str,
        *,
        title: str,
        body: str,
        head: str,
        base: str,
        fields: dict[str, Any],
        head_repo: str = "",
    ) -> FakePull:
        pull = self.seed_pull(
            full_name,
            title=title,
            body=body,
            head=head,
            base=base,
            state=self.open_state,
            head_repo=head_repo,
        )
        with self.forge.locked():
            stored = self.forge.repo_state(full_name).pulls[-1]
            stored.fields = dict(fields)
        pull.fields = dict(fields)
        return pull

    def open_pull_for(
        self, full_name: str, head: str, base: str, head_repo: str = ""
    ) -> FakePull | None:
        where = "" if head_repo == full_name else head_repo
        for pull in self.forge.pulls(full_name):
            if (pull.head, pull.base, pull.head_repo) == (head, base, where) and (
                pull.state == self.open_state
            ):
                return pull
        return None

    # -- forks ------------------------------------------------------------------------------
    def split_head(self, full_name: str, head: str) -> tuple[str, str] | None:
        """``owner:branch`` -> (the owner's fork of ``full_name``, branch); a bare branch
        is the base repository's. None when ``owner`` has no fork of it."""
        if ":" not in head:
            return full_name, head
        owner, branch = head.split(":", 1)
        repo = f"{owner}/{full_name.rsplit('/', 1)[1]}"
        if repo == full_name:
            return full_name, branch
        if self.forge.fork_parent(repo) != full_name:
            return None
        return repo, branch

    def repo_json(self, full_name: str) -> dict[str, Any]:
        """``GET /repos/{owner}/{name}``: GitHub, Gitee and Gitea all carry ``fork`` and
        ``parent``."""
        parent = self.forge.fork_parent(full_name)
        return {
            "id": self.forge.project_id(full_name),
            "full_name": full_name,
            "name": full_name.rsplit("/", 1)[1],
            "owner": {"login": full_name.split("/")[0]},
            "default_branch": "master",
            "html_url": f"{self.forge.web_url}/{full_name}",
            "fork": parent is not None,
            "parent": None if parent is None else {"full_name": parent},
        }

    def get_repo(self, full_name: str) -> Reply:
        """The repository; a fork is there as soon as it was asked for (every forge answers
        the fork request with it), even while GitHub still copies its git objects."""
        return Reply(200, self.repo_json(full_name))

    def post_fork(self, full_name: str, status: int) -> Reply:
        fork, _ = self.forge.make_fork(full_name, self.forge.login)
        return Reply(status, self.repo_json(fork))

    def head_json(self, full_name: str, pull: FakePull, label: str) -> dict[str, Any]:
        return {
            "ref": pull.head,
            "label": label,
            "repo": {"full_name": pull.head_repo or full_name},
        }

    def missing_branch(self, full_name: str, branch: str) -> bool:
        """With git enabled, a PR head or base must be a branch of the bare repository."""
        from tests.forges.githttp import branch_exists

        if self.forge.git_root is None:
            return False
        return not branch_exists(self.forge, full_name, branch)

    # -- pagination ---------------------------------------------------------------------
    def paginate(
        self, req: Request, items: list[Any], *, size_param: str, default: int, maximum: int
    ) -> tuple[list[Any], dict[str, str]] | Reply:
        try:
            page = int(req.query.get("page", "1"))
            size = int(req.query.get(size_param, str(default)))
        except ValueError:
            return Reply(400, {"message": "page and page size must be integers"})
        if page < 1 or size < 1:
            return Reply(400, {"message": "page and page size must be positive"})
        size = min(size, maximum)
        chunk = items[(page - 1) * size : page * size]
        pages = max(1, math.ceil(len(items) / size))
        return chunk, self.page_headers(req, page=page, pages=pages, size=size, total=len(items))

    def page_headers(
        self, req: Request, *, page: int, pages: int, size: int, total: int
    ) -> dict[str, str]:
        links = []
        if page < pages:
            links.append(f'<{self._page_link(req, page + 1)}>; rel="next"')
            links.append(f'<{self._page_link(req, pages)}>; rel="last"')
        if page > 1:
            links.append(f'<{self._page_link(req, page - 1)}>; rel="prev"')
        return {"Link": ", ".join(links)} if links else {}

    def _page_link(self, req: Request, page: int) -> str:
        split = urllib.parse.urlsplit(req.raw_path)
        query = dict(req.query)
        query["page"] = str(page)
        return f"{req.base_url}{split.path}?{urllib.parse.urlencode(query)}"

    def require_json(self, req: Request) -> Reply | None:
        if req.method in ("POST", "PUT", "PATCH") and req.content_type != "json":
            return Reply(415, {"message": f"expected a JSON body, got {req.content_type!r}"})
        if req.fields.get("__invalid__") or "__array__" in req.fields:
            return Reply(400, {"message": "Problems parsing JSON"})
        return None

    def repo_or_404(self, full_name: str) -> Reply | None:
        if not self.forge.repo_exists(full_name):
            return Reply(404, {"message": "Not Found"})
        return None


def _bearer(req: Request) -> str | None:
    value = req.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "token") else None


def _missing(fields: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = fields.get(name)
        if not isinstance(value, str) or not value.strip():
            return name
    return None


# ---------------------------------------------------------------------------------------
class Gitee(Dialect):
    kind = "gitee"

    def next_issue_number(self, state: _RepoState) -> str:
        number = state.next_issue
        state.next_issue += 1
        return "I" + _base36(36**4 + 7 * 36**2 + number).upper()

    def next_pull_number(self, state: _RepoState) -> str:
        number = state.next_pull
        state.next_pull += 1
        return str(number)

    def authenticate(self, req: Request) -> Reply | None:
        token = req.query.get("access_token") or req.fields.get("access_token") or _bearer(req)
        if token != self.forge.token:
            return Reply(401, {"message": "401 Unauthorized: Access token does not exist"})
        return None

    def route(self, req: Request) -> Reply:
        s, m = req.segments, req.method
        if s == ["user"] and m == "GET":
            return Reply(200, self.user())
        if len(s) == 3 and s[0] == "repos" and s[2] == "issues" and m == "POST":
            return self.post_issue(req, owner=s[1])
        if len(s) >= 3 and s[0] == "repos":
            full_name = f"{s[1]}/{s[2]}"
            missing = self.repo_or_404(full_name)
            if missing is not None:
                return missing
            rest = s[3:]
            if rest == [] and m == "GET":
                return self.get_repo(full_name)
            if rest == ["forks"] and m == "POST":
                if req.content_type not in ("form", "json", ""):
                    return Reply(400, {"message": "unsupported body"})
                return self.post_fork(full_name, 201)
            if rest == ["issues"] and m == "GET":
                return self.list_issues(req, full_name)
            if rest == ["pulls"] and m == "POST":
                return self.post_pull(req, full_name)
            if rest == ["pulls"] and m == "GET":
                return self.list_pulls(req, full_name)
        return Reply(404, {"message": "Not Found Project"})

    def user(self) -> dict[str, Any]:
        login = self.forge.login
        return {"login": login, "id": 1, "name": login, "html_url": f"{self.forge.web_url}/{login}"}

    def post_issue(self, req: Request, *, owner: str) -> Reply:
        if req.content_type not in ("form", "json"):
            return Reply(400, {"message": "unsupported body"})
        missing = _missing(req.fields, "title", "repo")
        if missing:
            return Reply(400, {"message": f"{missing} is missing"})
        full_name = f"{owner}/{req.fields['repo']}"
        not_found = self.repo_or_404(full_name)
        if not_found is not None:
            return not_found
        issue = self.create_issue(
            full_name, req.fields["title"], str(req.fields.get("body", "")), req.fields
        )
        return Reply(201, self.issue_json(full_name, issue))

    def issue_json(self, full_name: str, issue: FakeIssue) -> dict[str, Any]:
        return {
            "id": issue.id,
            "number": issue.number,
            "html_url": issue.url,
            "state": issue.state,
            "title": issue.title,
            "body": issue.body,
            "labels": [],
            "repository": {"full_name": full_name, "path": full_name.split("/")[-1]},
        }

    def pull_json(self, full_name: str, pull: FakePull) -> dict[str, Any]:
        return {
            "id": pull.id,
            "number": int(pull.number),
            "html_url": pull.url,
            "state": pull.state,
            "title": pull.title,
            "body": pull.body,
            "head": self.head_json(full_name, pull, _head_label(pull)),
            "base": {"ref": pull.base, "label": pull.base, "repo": {"full_name": full_name}},
            "labels": [],
            "prune_source_branch": str(pull.fields.get("prune_source_branch")).lower() == "true",
        }

    def list_issues(self, req: Request, full_name: str) -> Reply:
        state = req.query.get("state", "open")
        issues = [i for i in self.forge.issues(full_name) if state in ("all", i.state)]
        issues.reverse()  # newest first, Gitee's default order
        paged = self.paginate(req, issues, size_param="per_page", default=20, maximum=100)
        if isinstance(paged, Reply):
            return paged
        chunk, headers = paged
        return Reply(200, [self.issue_json(full_name, i) for i in chunk], headers)

    def page_headers(
        self, req: Request, *, page: int, pages: int, size: int, total: int
    ) -> dict[str, str]:
        return {"total_count": str(total), "total_page": str(pages)}

    def post_pull(self, req: Request, full_name: str) -> Reply:
        if req.content_type not in ("form", "json"):
            return Reply(400, {"message": "unsupported body"})
        missing = _missing(req.fields, "title", "head", "base")
        if missing:
            return Reply(400, {"message": f"{missing} is missing"})
        source = self.split_head(full_name, req.fields["head"])
        base = req.fields["base"]
        if source is None:
            return Reply(400, {"message": "源仓库不存在"})
        head_repo, head = source
        same = head_repo == full_name
        if (same and head == base) or self.missing_branch(head_repo, head):
            return Reply(400, {"message": "源分支不存在或与目标分支相同"})
        if self.open_pull_for(full_name, head, base, head_repo) is not None:
            return Reply(400, {"message": "不能重复创建 Pull Request"})
        pull = self.create_pull(
            full_name,
            title=req.fields["title"],
            body=str(req.fields.get("body", "")),
            head=head,
            base=base,
            fields=req.fields,
            head_repo=head_repo,
        )
        return Reply(201, self.pull_json(full_name, pull))

    def list_pulls(self, req: Request, full_name: str) -> Reply:
        state = req.query.get("state", "open")
        head = req.query.get("head")
        base = req.query.get("base")
        pulls = [
            p
            for p in self.forge.pulls(full_name)
            if state in ("all", p.state)
            and (head is None or head in (_head_label(p), f"{_head_owner(full_name, p)}:{p.head}"))
            and (base is None or base == p.base)
        ]
        paged = self.paginate(req, pulls, size_param="per_page", default=20, maximum=100)
        if isinstance(paged, Reply):
            return paged
        chunk, headers = paged
        return Reply(200, [self.pull_json(full_name, p) for p in chunk], headers)


# ---------------------------------------------------------------------------------------
class GitHub(Dialect):
    kind = "github"

    def pull_url(self, full_name: str, number: str) -> str:
        return f"{self.forge.web_url}/{full_name}/pull/{number}"

    def authenticate(self, req: Request) -> Reply | None:
        if not req.headers.get("user-agent"):
            return Reply(
                403,
                "Request forbidden by administrative rules. Please make sure your "
                "request has a User-Agent header",
            )
        version = req.headers.get("x-github-api-version")
        if version is not None and version not in GITHUB_API_VERSIONS:
            return Reply(400, {"message": f"Unsupported 'X-GitHub-Api-Version': {version}"})
        if _bearer(req) != self.forge.token:
            return Reply(
                401,
                {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
            )
        return self.require_json(req)

    def route(self, req: Request) -> Reply:
        s, m = req.segments, req.method
        if s == ["user"] and m == "GET":
            login = self.forge.login
            return Reply(200, {"login": login, "id": 1}, {"X-OAuth-Scopes": "repo"})
        if len(s) >= 3 and s[0] == "repos":
            full_name = f"{s[1]}/{s[2]}"
            missing = self.repo_or_404(full_name)
            if missing is not None:
                return missing
            rest = s[3:]
            if rest == [] and m == "GET":
                return self.get_repo(full_name)
            if rest == ["forks"] and m == "POST":
                return self.post_fork(full_name, 202)  # forked in the background
            if rest == ["issues"] and m == "POST":
                return self.post_issue(req, full_name)
            if rest == ["issues"] and m == "GET":
                return self.list_issues(req, full_name)
            if rest == ["pulls"] and m == "POST":
                return self.post_pull(req, full_name)
            if rest == ["pulls"] and m == "GET":
                return self.list_pulls(req, full_name)
            if len(rest) >= 2 and rest[0] == "branches" and m == "GET":
                return self.get_branch(full_name, "/".join(rest[1:]))
        return Reply(404, {"message": "Not Found"})

    def get_branch(self, full_name: str, branch: str) -> Reply:
        """``GET /repos/{owner}/{repo}/branches/{branch}``: 404 while a fork's git objects
        are still being copied (each such answer is one lookup of the copy)."""
        copying = self.forge.fork_parent(full_name) is not None and self.forge.fork_copying(
            full_name
        )
        if copying or self.missing_branch(full_name, branch):
            return Reply(404, {"message": "Branch not found"})
        return Reply(200, {"name": branch, "commit": {"sha": "0" * 40}, "protected": False})

    def issue_json(self, full_name: str, issue: FakeIssue) -> dict[str, Any]:
        return {
            "id": issue.id,
            "node_id": f"I_{issue.id}",
            "number": int(issue.number),
            "html_url": issue.url,
            "state": issue.state,
            "title": issue.title,
            "body": issue.body,
            "user": {"login": self.forge.login},
        }

    def pull_json(self, full_name: str, pull: FakePull) -> dict[str, Any]:
        owner = full_name.split("/")[0]
        return {
            "id": pull.id,
            "number": int(pull.number),
            "html_url": pull.url,
            "state": pull.state,
            "title": pull.title,
            "body": pull.body,
            "head": self.head_json(full_name, pull, f"{_head_owner(full_name, pull)}:{pull.head}"),
            "base": {
                "ref": pull.base,
                "label": f"{owner}:{pull.base}",
                "repo": {"full_name": full_name},
            },
        }

    def post_issue(self, req: Request, full_name: str) -> Reply:
        if _missing(req.fields, "title"):
            return _github_422("Issue", "title", "missing_field")
        body = req.fields.get("body") or ""
        issue = self.create_issue(full_name, req.fields["title"], body, req.fields)
        return Reply(201, self.issue_json(full_name, issue))

    def list_issues(self, req: Request, full_name: str) -> Reply:
        state = req.query.get("state", "open")
        items: list[dict[str, Any]] = []
        for issue in self.forge.issues(full_name):
            items.append(self.issue_json(full_name, issue))
        for pull in self.forge.pulls(full_name):
            as_issue = self.issue_json(
                full_name,
                FakeIssue(pull.number, pull.title, pull.body, pull.state, pull.url, pull.id),
            )
            as_issue["pull_request"] = {"html_url": pull.url}
            items.append(as_issue)
        items = [i for i in items if state in ("all", i["state"])]
        items.sort(key=lambda i: -int(i["number"]))  # newest first, like GitHub
        paged = self.paginate(req, items, size_param="per_page", default=30, maximum=100)
        if isinstance(paged, Reply):
            return paged
        return Reply(200, paged[0], paged[1])

    def post_pull(self, req: Request, full_name: str) -> Reply:
        missing = _missing(req.fields, "head", "base", "title")
        if missing:
            return _github_422("PullRequest", missing, "missing_field")
        source = self.split_head(full_name, req.fields["head"])
        base = req.fields["base"]
        if source is None:
            return _github_422("PullRequest", "head", "invalid")
        head_repo, branch = source
        if (head_repo == full_name and branch == base) or self.missing_branch(head_repo, branch):
            return _github_422("PullRequest", "head", "invalid")
        if self.open_pull_for(full_name, branch, base, head_repo) is not None:
            owner = head_repo.split("/")[0]
            return Reply(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "resource": "PullRequest",
                            "code": "custom",
                            "message": f"A pull request already exists for {owner}:{branch}.",
                        }
                    ],
                    "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
                },
            )
        pull = self.create_pull(
            full_name,
            title=req.fields["title"],
            body=req.fields.get("body") or "",
            head=branch,
            base=base,
            fields=req.fields,
            head_repo=head_repo,
        )
        return Reply(201, self.pull_json(full_name, pull))

    def list_pulls(self, req: Request, full_name: str) -> Reply:
        state = req.query.get("state", "open")
        head = req.query.get("head")
        base = req.query.get("base")
        pulls = [
            p
            for p in self.forge.pulls(full_name)
            if state in ("all", p.state)
            and (head is None or head == f"{_head_owner(full_name, p)}:{p.head}")
            and (base is None or base == p.base)
        ]
        pulls.reverse()
        paged = self.paginate(req, pulls, size_param="per_page", default=30, maximum=100)
        if isinstance(paged, Reply):
            return paged
        chunk, headers = paged
        return Reply(200, [self.pull_json(full_name, p) for p in chunk], headers)


def _github_422(resource: str, field: str, code: str) -> Reply:
    return Reply(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"resource": resource, "field": field, "code": code}],
            "documentation_url": "https://docs.github.com/rest",
        },
    )


# ---------------------------------------------------------------------------------------
class GitLab(Dialect):
    kind = "gitlab"
    open_state = "opened"

    def next_issue_number(self, state: _RepoState) -> str:
        number = state.next_issue
        state.next_issue += 1
        return str(number)

    def next_pull_number(self, state: _RepoState) -> str:
        number = state.next_pull
        state.next_pull += 1
        return str(number)

    def issue_url(self, full_name: str, number: str) -> str:
        return f"{self.forge.web_url}/{full_name}/-/issues/{number}"

    def pull_url(self, full_name: str, number: str) -> str:
        return f"{self.forge.web_url}/{full_name}/-/merge_requests/{number}"

    def authenticate(self, req: Request) -> Reply | None:
        token = req.headers.get("private-token") or _bearer(req)
        if token != self.forge.token:
            return Reply(401, {"message": "401 Unauthorized"})
        if req.method == "POST" and req.content_type not in ("form", "json"):
            return Reply(400, {"error": "body must be JSON or form-encoded"})
        return None

    def route(self, req: Request) -> Reply:
        s, m = req.segments, req.method
        if s == ["user"] and m == "GET":
            login = self.forge.login
            return Reply(200, {"id": 1, "username": login, "web_url": f"{req.base_url}/{login}"})
        if len(s) >= 2 and s[0] == "projects":
            full_name = s[1]
            if "/" not in full_name or self.repo_or_404(full_name) is not None:
                return Reply(404, {"message": "404 Project Not Found"})
            rest = s[2:]
            if rest == [] and m == "GET":
                return Reply(200, self.project_json(full_name))
            if rest == ["fork"] and m == "POST":
                fork, _ = self.forge.make_fork(full_name, self.forge.login)
                return Reply(201, {**self.project_json(fork, lookup=False),
                                   "import_status": "scheduled"})  # fmt: skip
            if rest == ["issues"] and m == "POST":
                return self.post_issue(req, full_name)
            if rest == ["issues"] and m == "GET":
                return self.list_issues(req, full_name)
            if rest == ["merge_requests"] and m == "POST":
                return self.post_mr(req, full_name)
            if rest == ["merge_requests"] and m == "GET":
                return self.list_mrs(req, full_name)
        return Reply(404, {"error": "404 Not Found"})

    def project_json(self, full_name: str, *, lookup: bool = True) -> dict[str, Any]:
        """A project; a fork reports ``import_status: started`` while it is being copied."""
        parent = self.forge.fork_parent(full_name)
        status = "none"
        if parent is not None:
            status = "started" if lookup and self.forge.fork_copying(full_name) else "finished"
        return {
            "id": self.forge.project_id(full_name),
            "path_with_namespace": full_name,
            "default_branch": "main",
            "web_url": f"{self.forge.web_url}/{full_name}",
            "import_status": status,
            "forked_from_project": (
                None
                if parent is None
                else {"id": self.forge.project_id(parent), "path_with_namespace": parent}
            ),
        }

    def issue_json(self, full_name: str, issue: FakeIssue) -> dict[str, Any]:
        return {
            "id": issue.id,
            "iid": int(issue.number),
            "project_id": 7,
            "title": issue.title,
            "description": issue.body,
            "state": issue.state,
            "web_url": issue.url,
            "references": {"full": f"{full_name}#{issue.number}"},
        }

    def mr_json(self, full_name: str, pull: FakePull) -> dict[str, Any]:
        return {
            "id": pull.id,
            "iid": int(pull.number),
            "title": pull.title,
            "description": pull.body,
            "state": pull.state,
            "source_branch": pull.head,
            "target_branch": pull.base,
            "source_project_id": self.forge.project_id(pull.head_repo or full_name),
            "target_project_id": self.forge.project_id(full_name),
            "web_url": pull.url,
            "references": {"full": f"{full_name}!{pull.number}"},
        }

    def post_issue(self, req: Request, full_name: str) -> Reply:
        if _missing(req.fields, "title"):
            return Reply(400, {"error": "title is missing"})
        body = req.fields.get("description") or ""
        issue = self.create_issue(full_name, req.fields["title"], body, req.fields)
        return Reply(201, self.issue_json(full_name, issue))

    def list_issues(self, req: Request, full_name: str) -> Reply:
        state = req.query.get("state", "all")
        search = req.query.get("search")
        where = req.query.get("in", "title,description").split(",")
        issues = []
        for issue in reversed(self.forge.issues(full_name)):
            if state not in ("all", issue.state):
                continue
            if search:
                haystack = " ".join(
                    text
                    for key, text in (("title", issue.title), ("description", issue.body))
                    if key in where
                ).lower()
                if not all(term.lower() in haystack for term in search.split()):
                    continue
            issues.append(self.issue_json(full_name, issue))
        paged = self.paginate(req, issues, size_param="per_page", default=20, maximum=100)
        if isinstance(paged, Reply):
            return paged
        return Reply(200, paged[0], paged[1])

    def page_headers(
        self, req: Request, *, page: int, pages: int, size: int, total: int
    ) -> dict[str, str]:
        headers = super().page_headers(req, page=page, pages=pages, size=size, total=total)
        headers.update(
            {
                "x-page": str(page),
                "x-per-page": str(size),
                "x-next-page": str(page + 1) if page < pages else "",
                "x-prev-page": str(page - 1) if page > 1 else "",
                "x-total": str(total),
                "x-total-pages": str(pages),
            }
        )
        return headers

    def post_mr(self, req: Request, full_name: str) -> Reply:
        missing = _missing(req.fields, "source_branch", "target_branch", "title")
        if missing:
            return Reply(400, {"error": f"{missing} is missing"})
        head, base = req.fields["source_branch"], req.fields["target_branch"]
        source = full_name
        target_id = req.fields.get("target_project_id")
        if target_id is not None:  # from a fork: the MR lives on the target project
            parent = self.forge.fork_parent(full_name)
            if parent is None or self.forge.project_id(parent) != int(target_id):
                return Reply(422, {"message": ["Target project is invalid"]})
            full_name = parent
        if (source == full_name and head == base) or self.missing_branch(source, head):
            return Reply(422, {"message": ["Source branch is invalid"]})
        existing = self.open_pull_for(full_name, head, base, source)
        if existing is not None:
            return Reply(
                409,
                {
                    "message": [
                        "Another open merge request already exists for this source branch: "
                        f"!{existing.number}"
                    ]
                },
            )
        pull = self.create_pull(
            full_name,
            title=req.fields["title"],
            body=req.fields.get("description") or "",
            head=head,
            base=base,
            fields=req.fields,
            head_repo=source,
        )
        return Reply(201, self.mr_json(full_name, pull))

    def list_mrs(self, req: Request, full_name: str) -> Reply:
        state = req.query.get("state", "all")
        head = req.query.get("source_branch")
        base = req.query.get("target_branch")
        pulls = [
            self.mr_json(full_name, p)
            for p in reversed(self.forge.pulls(full_name))
            if state in ("all", p.state)
            and (head is None or head == p.head)
            and (base is None or base == p.base)
        ]
        paged = self.paginate(req, pulls, size_param="per_page", default=20, maximum=100)
        if isinstance(paged, Reply):
            return paged
        return Reply(200, paged[0], paged[1])


# ---------------------------------------------------------------------------------------
class Gitea(Dialect):
    kind = "gitea"
    max_items = 50

    def authenticate(self, req: Request) -> Reply | None:
        if _bearer(req) != self.forge.token:
            return Reply(
                401, {"message": "token is required", "url": f"{req.base_url}/api/swagger"}
            )
        return self.require_json(req)

    def route(self, req: Request) -> Reply:
        s, m = req.segments, req.method
        if s == ["user"] and m == "GET":
            return Reply(200, {"login": self.forge.login, "id": 1, "is_admin": False})
        if len(s) >= 3 and s[0] == "repos":
            full_name = f"{s[1]}/{s[2]}"
            missing = self.repo_or_404(full_name)
            if missing is not None:
                return missing
            rest = s[3:]
            if rest == [] and m == "GET":
                return self.get_repo(full_name)
            if rest == ["forks"] and m == "POST":
                return self.post_fork(full_name, 202)
            if rest == ["issues"] and m == "POST":
                return self.post_issue(req, full_name)
            if rest == ["issues"] and m == "GET":
                return self.list_issues(req, full_name)
            if rest == ["pulls"] and m == "POST":
                return self.post_pull(req, full_name)
            if rest == ["pulls"] and m == "GET":
                return self.list_pulls(req, full_name)
            if len(rest) >= 3 and rest[0] == "pulls" and m == "GET":
                return self.pull_by_base_head(full_name, rest[1], "/".join(rest[2:]))
        return Reply(404, {"message": "The target couldn't be found.", "errors": []})

    def issue_json(self, full_name: str, issue: FakeIssue, *, pull: bool = False) -> dict[str, Any]:
        return {
            "id": issue.id,
            "number": int(issue.number),
            "title": issue.title,
            "body": issue.body,
            "state": issue.state,
            "html_url": issue.url,
            "url": f"{self.forge.api_url}/repos/{full_name}/issues/{issue.number}",
            "pull_request": {"merged": False} if pull else None,
        }

    def pull_json(self, full_name: str, pull: FakePull) -> dict[str, Any]:
        return {
            "id": pull.id,
            "number": int(pull.number),
            "title": pull.title,
            "body": pull.body,
            "state": pull.state,
            "html_url": pull.url,
            "merged": False,
            "head": self.head_json(full_name, pull, _head_label(pull)),
            "base": {"ref": pull.base, "label": pull.base, "repo": {"full_name": full_name}},
        }

    def page_headers(
        self, req: Request, *, page: int, pages: int, size: int, total: int
    ) -> dict[str, str]:
        headers = super().page_headers(req, page=page, pages=pages, size=size, total=total)
        headers["X-Total-Count"] = str(total)
        return headers

    def post_issue(self, req: Request, full_name: str) -> Reply:
        if _missing(req.fields, "title"):
            return Reply(422, {"message": "[Title]: Required", "url": ""})
        issue = self.create_issue(
            full_name, req.fields["title"], req.fields.get("body") or "", req.fields
        )
        return Reply(201, self.issue_json(full_name, issue))

    def list_issues(self, req: Request, full_name: str) -> Reply:
        state = req.query.get("state", "open")
        kind = req.query.get("type")
        items = []
        if kind in (None, "issues"):
            items += [self.issue_json(full_name, i) for i in self.forge.issues(full_name)]
        if kind in (None, "pulls"):
            items += [
                self.issue_json(
                    full_name,
                    FakeIssue(p.number, p.title, p.body, p.state, p.url, p.id),
                    pull=True,
                )
                for p in self.forge.pulls(full_name)
            ]
        items = [i for i in items if state in ("all", i["state"])]
        items.sort(key=lambda i: -int(i["number"]))
        paged = self.paginate(req, items, size_param="limit", default=30, maximum=self.max_items)
        if isinstance(paged, Reply):
            return paged
        return Reply(200, paged[0], paged[1])

    def post_pull(self, req: Request, full_name: str) -> Reply:
        missing = _missing(req.fields, "head", "base", "title")
        if missing:
            return Reply(422, {"message": f"[{missing.capitalize()}]: Required", "url": ""})
        source = self.split_head(full_name, req.fields["head"])
        base = req.fields["base"]
        if source is None:
            return Reply(404, {"message": "The target couldn't be found.", "errors": []})
        head_repo, head = source
        if (head_repo == full_name and head == base) or self.missing_branch(head_repo, head):
            return Reply(404, {"message": "The target couldn't be found.", "errors": []})
        existing = self.open_pull_for(full_name, head, base, head_repo)
        if existing is not None:
            return Reply(
                409,
                {
                    "message": (
                        f"pull request already exists for these targets [id: {existing.id}, "
                        f"issue_id: {existing.number}, head_repo_id: 7, base_repo_id: 7, "
                        f"head_branch: {head}, base_branch: {base}]"
                    ),
                    "url": "",
                },
            )
        pull = self.create_pull(
            full_name,
            title=req.fields["title"],
            body=req.fields.get("body") or "",
            head=head,
            base=base,
            fields=req.fields,
            head_repo=head_repo,
        )
        return Reply(201, self.pull_json(full_name, pull))

    def list_pulls(self, req: Request, full_name: str) -> Reply:
        state = req.query.get("state", "open")
        pulls = [
            self.pull_json(full_name, p)
            for p in reversed(self.forge.pulls(full_name))
            if state in ("all", p.state)
        ]
        paged = self.paginate(req, pulls, size_param="limit", default=30, maximum=self.max_items)
        if isinstance(paged, Reply):
            return paged
        return Reply(200, paged[0], paged[1])

    def pull_by_base_head(self, full_name: str, base: str, head: str) -> Reply:
        for pull in reversed(self.forge.pulls(full_name)):
            if pull.base == base and pull.head == head:
                return Reply(200, self.pull_json(full_name, pull))
        return Reply(404, {"message": "The target couldn't be found.", "errors": []})


def _head_owner(full_name: str, pull: FakePull) -> str:
    return (pull.head_repo or full_name).split("/")[0]


def _head_label(pull: FakePull) -> str:
    """Gitee's and Gitea's label: the bare branch, or ``owner:branch`` from a fork."""
    return f"{pull.head_repo.split('/')[0]}:{pull.head}" if pull.head_repo else pull.head


def _base36(number: int) -> str:
    digits = string.digits + string.ascii_lowercase
    out = ""
    while number:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
    return out or "0"
