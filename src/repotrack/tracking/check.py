"""``repotrack track check``: will each item's next run work? Asked before it runs.

The original found out at the first run, or never: a token refused at start-up stopped
its scheduler with one log line. For every item this answers, one line per question:

- ``upstream``: the URL is one we accept (scheme, host list) and ``git ls-remote``
  shows the tracked branch;
- ``token``: the forge accepts the token (``GET /user`` or the forge's equivalent; once
  per forge);
- ``downstream``: the tracked branch can be fetched from the downstream repository;
- ``spec``: that branch holds the spec file the run would edit;
- ``push``: the token may push a branch there (``git push --dry-run``: the forge checks
  write access when git asks for the receive-pack advertisement). Where it may not, the
  line says whether a fork is possible (the target is visible to the token and its
  owner has no other repository of that name). In fork mode (``[forges.<name>] fork =
  true``) the question is asked of the fork instead, or, before the first run made it,
  answered by "fork possible".

Nothing is written anywhere but the local clone cache. ``check_tokens`` is the token
question alone, which the service asks for every configured forge when it starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from repotrack.config import Settings
from repotrack.errors import AuthError, RepotrackError
from repotrack.state import StateDB, Tracking
from repotrack.tracking.downstream import Downstream
from repotrack.tracking.forges import (
    Forge,
    ForgeTarget,
    default_api_url,
    make_forge,
    parse_downstream,
)
from repotrack.tracking.forges.targets import default_web_url
from repotrack.tracking.forks import fork_mode
from repotrack.tracking.hosts import HostPolicy
from repotrack.tracking.quickscan import list_heads
from repotrack.tracking.specfile import find_spec
from repotrack.tracking.upstream import resolve_upstream_url

__all__ = ["Finding", "ItemCheck", "check_items", "check_tokens"]

log = logging.getLogger(__name__)

#: Branch name used for the push dry run (nothing is pushed).
PROBE_BRANCH = "patch-tracking/check"


@dataclass(frozen=True)
class Finding:
    """One answer: ``what`` was checked, whether it passed, and the detail to show."""

    what: str
    ok: bool
    detail: str


@dataclass
class ItemCheck:
    """All answers for one item."""

    item_id: int
    repo: str
    branch: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(finding.ok for finding in self.findings)

    def lines(self) -> list[str]:
        where = f"{self.repo} {self.branch}"
        return [
            f"{where}: {f.what}: {'ok' if f.ok else 'FAILED'} ({f.detail})" for f in self.findings
        ]


def _answer(what: str, question: Callable[[], str]) -> Finding:
    try:
        return Finding(what, True, question())
    except RepotrackError as exc:
        return Finding(what, False, f"{type(exc).__name__}: {exc}")


def check_tokens(settings: Settings) -> dict[str, Finding]:
    """The token check of every configured forge that has a token."""
    found: dict[str, Finding] = {}
    for name, forge in settings.forges.items():
        if forge.token is None and forge.token_file is None:
            continue
        found[name] = _answer("token", _token_question(settings, name, forge.kind or name))
    return found


def _token_question(settings: Settings, name: str, kind: str) -> Callable[[], str]:
    def question() -> str:
        return _token_ok(settings, name, kind, None)

    return question


def _client(settings: Settings, name: str, kind: str, target: ForgeTarget | None) -> Forge:
    forge_settings = settings.forge(name)
    token = forge_settings.resolved_token(name)
    if token is None:
        raise RepotrackError(f"no token configured ([forges.{name}] token_file)")
    api_url = target.api_url if target is not None else forge_settings.api_url
    if not api_url:
        api_url = default_api_url(kind, default_web_url(name, settings.forges))
    return make_forge(
        kind,
        token=token,
        api_url=api_url,
        timeout=settings.tracking.http_timeout,
        max_retries=settings.tracking.max_retries,
    )


def _token_ok(settings: Settings, name: str, kind: str, target: ForgeTarget | None) -> str:
    _client(settings, name, kind, target).check_token()
    return f"accepted by {name}"


def _fork_possible(settings: Settings, target: ForgeTarget, name: str) -> tuple[str, str | None]:
    """ "fork possible: ..." or "no fork possible: ...", and the existing fork's clone URL."""
    try:
        forge = _client(settings, name, target.kind, target)
        owner = forge.token_owner()
        fork = forge.find_fork(target, owner)
        if fork is not None:
            return f"fork possible: {fork.html_url} exists", fork.clone_url
        if forge.repo_info(target) is None:
            return f"no fork possible: the token does not see {target.full_name}", None
        return f"fork possible: {owner}/{target.name} would be created", None
    except RepotrackError as exc:
        return f"no fork possible: {type(exc).__name__}: {exc}", None


def check_items(settings: Settings, db: StateDB, *, repo: str | None = None) -> list[ItemCheck]:
    """Answer every question for every item (of ``repo``), in id order."""
    query = sa.select(Tracking).order_by(Tracking.id)
    if repo is not None:
        query = query.where(Tracking.repo == repo)
    with db.session() as session:
        items = [
            (i.id, i.version_control, i.scm_repo, i.scm_branch, i.repo, i.branch)
            for i in session.scalars(query)
        ]
    hosts = HostPolicy(
        allow=settings.tracking.upstream_allow_hosts, deny=settings.tracking.upstream_deny_hosts
    )
    tokens: dict[str, Finding] = {}
    return [_check_one(settings, hosts, tokens, *item) for item in items]


def _check_one(
    settings: Settings,
    hosts: HostPolicy,
    tokens: dict[str, Finding],
    item_id: int,
    version_control: str,
    scm_repo: str,
    scm_branch: str,
    repo: str,
    branch: str,
) -> ItemCheck:
    result = ItemCheck(item_id, repo, branch)

    def upstream() -> str:
        url = resolve_upstream_url(
            version_control, scm_repo, github_base_url=settings.tracking.github_base_url,
            allow_local=settings.tracking.allow_local_upstreams, hosts=hosts,
        )  # fmt: skip
        heads = list_heads(url, timeout=settings.tracking.git_timeout)
        head = heads.get(f"refs/heads/{scm_branch}")
        if head is None:
            raise RepotrackError(f"branch {scm_branch!r} not found upstream")
        return f"{scm_branch} at {head[:12]}"

    result.findings.append(_answer("upstream", upstream))
    try:
        target = parse_downstream(
            repo, settings.forges, default_forge=settings.tracking.default_forge
        )
    except RepotrackError as exc:
        result.findings.append(Finding("downstream", False, f"{type(exc).__name__}: {exc}"))
        return result
    name = target.forge_name or target.kind
    if name not in tokens:
        tokens[name] = _answer("token", lambda: _token_ok(settings, name, target.kind, target))
    result.findings.append(tokens[name])
    result.findings.extend(_downstream_findings(settings, target, name, branch))
    return result


def _downstream_findings(
    settings: Settings, target: ForgeTarget, name: str, branch: str
) -> list[Finding]:
    forge = settings.forge(name)
    try:
        downstream = Downstream(
            settings.git_cache_dir / "downstream",
            target.clone_url,
            token=forge.resolved_token(name),
            username=forge.username,
            timeout=settings.tracking.git_timeout,
        )
        worktree = downstream.prepare(branch)
    except RepotrackError as exc:
        return [Finding("downstream", False, f"{type(exc).__name__}: {exc}")]
    try:
        findings = [Finding("downstream", True, f"{target.html_url} {branch}")]
        paths = [
            p.relative_to(worktree).as_posix()
            for p in worktree.rglob("*.spec")
            if ".git" not in p.relative_to(worktree).parts
        ]
        spec = find_spec(paths, target.name)
        findings.append(
            Finding("spec", True, spec)
            if spec is not None
            else Finding("spec", False, f"no {target.name}.spec (nor a single *.spec) on {branch}")
        )

        def push() -> str:
            if fork_mode(settings, target):
                return _fork_push(settings, target, name, downstream, worktree)
            try:
                downstream.check_push(worktree, branch=PROBE_BRANCH)
            except AuthError as exc:
                hint, _ = _fork_possible(settings, target, name)
                if hint.startswith("fork possible"):
                    hint += (
                        f'; set fork = true (or fork_repos = ["{target.full_name}"])'
                        f" under [forges.{name}]"
                    )
                raise AuthError(f"{exc}; {hint}") from exc
            return "the token may push branches"

        findings.append(_answer("push", push))
        return findings
    finally:
        downstream.release(worktree)


def _fork_push(
    settings: Settings, target: ForgeTarget, name: str, downstream: Downstream, worktree: Path
) -> str:
    """Fork mode's push question: may the token push to its fork, or make one?"""
    hint, fork_url = _fork_possible(settings, target, name)
    if fork_url is None:
        if not hint.startswith("fork possible"):
            raise RepotrackError(f"fork mode: {hint}")
        return f"fork mode: {hint} by the first run"
    forge = settings.forge(name)
    to_fork = Downstream(
        settings.git_cache_dir / "downstream",
        target.clone_url,
        token=forge.resolved_token(name),
        username=forge.username,
        timeout=settings.tracking.git_timeout,
        push_url=fork_url,
    )
    to_fork.check_push(worktree, branch=PROBE_BRANCH)
    return f"fork mode: {hint}; the token may push there"
