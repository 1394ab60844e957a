"""Core use cases on tracking items and their issues: list, upsert, create, update, delete.

The REST routes (compatibility ``/tracking`` and ``/issue``, and ``/api/v1``) and the
CLI are thin faces over these functions. Each takes an open ``Session`` (the caller
owns the transaction: ``StateDB.session()`` commits or rolls back as a whole) and
raises domain errors from ``repotrack.errors``; none knows about HTTP.

Field values are checked here, not only in the faces, so that every door into the
state database refuses the same bad input with the same message:
``InputError(field=...)`` names the field and never echoes the value (it may be
10 000 characters of garbage).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from repotrack.errors import ConflictError, InputError, NotFoundError
from repotrack.state.models import NAME_MAX, SHA_MAX, URL_MAX, Issue, Run, Tracking

__all__ = [
    "ITEM_FIELDS",
    "REQUIRED_FIELDS",
    "VERSION_CONTROLS",
    "ItemStatus",
    "Page",
    "check_item_fields",
    "create_item",
    "delete_item",
    "delete_items",
    "get_item",
    "has_credentials",
    "item_status",
    "list_issues",
    "list_item_fields",
    "list_items",
    "list_runs",
    "listing_fingerprint",
    "redact_location",
    "update_item",
    "upsert_item",
]

#: The seven fields of a tracking item, in the order the original serialised them.
ITEM_FIELDS = (
    "version_control",
    "scm_repo",
    "scm_branch",
    "scm_commit",
    "repo",
    "branch",
    "enabled",
)
#: Every field but ``scm_commit`` is required when an item is created.
REQUIRED_FIELDS = tuple(name for name in ITEM_FIELDS if name != "scm_commit")
#: Upstream kinds the tracker understands.
VERSION_CONTROLS = ("github", "git")

_LIMITS = {
    "scm_repo": URL_MAX,
    "repo": URL_MAX,
    "scm_branch": NAME_MAX,
    "branch": NAME_MAX,
}
_SHA = re.compile(rf"[0-9a-fA-F]{{4,{SHA_MAX}}}")
# Characters git refuses in ref names, plus whitespace and control characters.
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|^/|/$|\.lock$|^\.|/\.")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
#: JSON can carry ``"\ud800"``; no database or log can store such a string.
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Page:
    """One page of a listing: the rows and the total number of matching rows."""

    rows: Sequence[Any]
    total: int


@dataclass(frozen=True)
class ItemStatus:
    """Health of one item as the tracker last left it, and its newest run."""

    item: Tracking
    last_run: Run | None


def check_item_fields(fields: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate item fields and return them normalised (``scm_commit`` "" becomes None).

    ``partial`` skips the presence check (PATCH). Raises ``InputError`` naming the
    first field at fault; the message never contains the value.
    """
    unknown = sorted(set(fields) - set(ITEM_FIELDS))
    if unknown:
        raise InputError("unknown field", field=unknown[0])
    if not partial:
        missing = [name for name in REQUIRED_FIELDS if name not in fields]
        if missing:
            raise InputError("field is required", field=missing[0])
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        clean[name] = _check_field(name, value)
    return clean


def _check_field(name: str, value: Any) -> Any:
    if name == "enabled":
        if not isinstance(value, bool):
            raise InputError("must be a boolean (true or false)", field=name)
        return value
    if name == "scm_commit":
        return _check_commit(value)
    if not isinstance(value, str):
        raise InputError("must be a string", field=name)
    if not value.isascii() and _SURROGATE.search(value):
        raise InputError("must be valid Unicode text (a lone surrogate was sent)", field=name)
    if name == "version_control":
        if value not in VERSION_CONTROLS:
            raise InputError(f"must be one of {', '.join(VERSION_CONTROLS)}", field=name)
        return value
    if not value:
        raise InputError("must not be empty", field=name)
    if len(value) > _LIMITS[name]:
        raise InputError(f"longer than {_LIMITS[name]} characters", field=name)
    if name in ("scm_branch", "branch"):
        return _check_branch(name, value)
    return _check_location(name, value)


def _check_commit(value: Any) -> str | None:
    """``None`` or ``""`` mean "no start commit"; otherwise a hex sha of 4 to 64 digits."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError("must be a string or null", field="scm_commit")
    if not _SHA.fullmatch(value):
        raise InputError(
            f"must be a hexadecimal commit id of 4 to {SHA_MAX} digits", field="scm_commit"
        )
    return value.lower()


def _check_branch(name: str, value: str) -> str:
    if value.startswith("-") or _BAD_REF.search(value):
        raise InputError("is not a valid git branch name", field=name)
    return value


def _check_location(name: str, value: str) -> str:
    """Repository names and URLs: no whitespace, no option-looking or ``ext::`` values,
    no credentials."""
    if _CONTROL_OR_SPACE.search(value):
        raise InputError("must not contain whitespace or control characters", field=name)
    if value.startswith("-"):
        raise InputError("must not start with '-'", field=name)
    if "::" in value.split("/", 1)[0]:
        raise InputError("git remote helpers (transport::address) are not allowed", field=name)
    if has_credentials(value):
        raise InputError(CREDENTIALS_REFUSED, field=name)
    return value


#: Why a URL with a secret in it is refused, and where the secret belongs instead.
CREDENTIALS_REFUSED = (
    "must not carry credentials (user:password@ or token@ in the URL: it would be "
    "listed by GET /tracking and visible in the process list); give forge tokens in "
    "[forges.<name>] token_file, and reach private upstreams with an ssh key or a "
    "git credential helper"
)


def has_credentials(url: str) -> bool:
    """Whether ``url`` carries a secret in its user-info.

    Any user-info of an http(s) URL counts (``https://<token>@host`` is how tokens are
    usually pasted); for ssh only a password does (``ssh://git@host`` names an account).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return False
    authority = rest.split("/", 1)[0]
    if "@" not in authority:
        return False
    userinfo = authority.rsplit("@", 1)[0]
    return scheme.lower() in ("http", "https") or ":" in userinfo


def redact_location(url: str) -> str:
    """``url`` with any user-info replaced by ``***``, for rows stored before the refusal."""
    if not has_credentials(url):
        return url
    scheme, _, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    return f"{scheme}://***@{authority.rsplit('@', 1)[1]}{slash}{path}"


def _filtered(statement: Any, *, repo: str | None, branch: str | None, enabled: bool | None) -> Any:
    if repo is not None:
        statement = statement.where(Tracking.repo == repo)
    if branch is not None:
        statement = statement.where(Tracking.branch == branch)
    if enabled is not None:
        statement = statement.where(Tracking.enabled == enabled)
    return statement


def list_items(
    session: Session,
    *,
    repo: str | None = None,
    branch: str | None = None,
    enabled: bool | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page:
    """Items matching every given filter (exact equality), oldest first."""
    query = _filtered(select(Tracking), repo=repo, branch=branch, enabled=enabled)
    query = _ordered(query, repo=repo, branch=branch).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    rows = session.scalars(query).all()
    if limit is None and offset == 0:
        total = len(rows)
    else:
        counter = _filtered(
            select(func.count(Tracking.id)), repo=repo, branch=branch, enabled=enabled
        )
        total = session.scalar(counter) or 0
    return Page(rows=rows, total=total)


def _ordered(query: Any, *, repo: str | None, branch: str | None) -> Any:
    """Oldest first, except for a (repo, branch) lookup: at most one row, and an ORDER BY
    would make SQLite walk the primary key instead of the unique index."""
    if repo is not None and branch is not None:
        return query
    return query.order_by(Tracking.id)


def list_item_fields(
    session: Session,
    *,
    repo: str | None = None,
    branch: str | None = None,
    enabled: bool | None = None,
) -> list[dict[str, Any]]:
    """The seven original fields of every matching item, as plain dicts in field order.

    The compatibility ``GET /tracking`` returns every item at once (no pagination
    in the original); selecting columns instead of ORM objects keeps that cheap.
    Order is the original's: filtered by ``repo``, SQLite answered from its
    (repo, branch) key, so by branch (code-point order, the same on every database);
    otherwise in insertion order.
    """
    columns = [getattr(Tracking, name) for name in ITEM_FIELDS]
    query = _filtered(select(*columns), repo=repo, branch=branch, enabled=enabled)
    if repo is None:
        query = query.order_by(Tracking.id)
    rows = [dict(zip(ITEM_FIELDS, row, strict=True)) for row in session.execute(query)]
    for row in rows:
        # Items stored before URLs with credentials were refused must not leak them.
        if "@" in row["scm_repo"]:
            row["scm_repo"] = redact_location(row["scm_repo"])
    if repo is not None:
        rows.sort(key=lambda row: str(row["branch"]))
    return rows


def listing_fingerprint(session: Session) -> tuple[Any, ...]:
    """A value that changes whenever any item is added, changed or deleted.

    ``(count, max id, max updated_at)``: an insert raises the id and the newest
    ``updated_at``, an update (ORM or Core: the column's ``onupdate``) the latter, a
    delete the count. One query of three scalar subqueries, so that each reads an index
    (the count the smallest one, the maxima one end of the primary key and of
    ``ix_tracking_updated_at``) instead of the three aggregates scanning the table
    together; callers cache a rendered listing against it.
    """
    row = session.execute(
        select(
            select(func.count()).select_from(Tracking).scalar_subquery(),
            select(func.max(Tracking.id)).scalar_subquery(),
            select(func.max(Tracking.updated_at)).scalar_subquery(),
        )
    ).one()
    return tuple(row)


def get_item(session: Session, *, item_id: int) -> Tracking:
    item = session.get(Tracking, item_id)
    if item is None:
        raise NotFoundError(f"tracking item {item_id} does not exist")
    return item


def _find(session: Session, *, repo: str, branch: str) -> Tracking | None:
    query = select(Tracking).where(Tracking.repo == repo, Tracking.branch == branch)
    return session.scalars(query).one_or_none()


def upsert_item(session: Session, *, fields: Mapping[str, Any]) -> tuple[Tracking, bool]:
    """Create or update the item identified by (repo, branch); returns (item, created).

    Unlike the original, an update whose ``scm_commit`` is absent, null or empty keeps
    the stored position: re-posting an item must not make the tracker skip commits
    (reference §10.1 #5). A given sha replaces it.
    """
    clean = check_item_fields(fields)
    item = _find(session, repo=clean["repo"], branch=clean["branch"])
    if item is None:
        created = _insert(session, clean)
        if created is not None:
            return created, True
        # A concurrent writer created it first: this request is an update of its row.
        item = _find(session, repo=clean["repo"], branch=clean["branch"])
        if item is None:
            raise ConflictError("the item changed concurrently; send the request again")
    for name in ITEM_FIELDS:
        if name == "scm_commit" and clean.get(name) is None:
            continue
        setattr(item, name, clean[name])
    session.flush()
    return item, False


def create_item(session: Session, *, fields: Mapping[str, Any]) -> Tracking:
    """Create a new item; an existing (repo, branch) is a ``ConflictError``."""
    clean = check_item_fields(fields)
    exists = ConflictError("a tracking item for this repo and branch already exists")
    if _find(session, repo=clean["repo"], branch=clean["branch"]) is not None:
        raise exists
    item = _insert(session, clean)
    if item is None:
        raise exists
    return item


def _insert(session: Session, clean: Mapping[str, Any]) -> Tracking | None:
    """Insert a new item, or None when a concurrent writer inserted (repo, branch) first.

    Two requests for one new item both see "absent" and both insert; the unique
    constraint lets one win. The loser's transaction is rolled back (the caller's
    session holds nothing else at this point) so it can report 409 or update the
    winner's row, instead of a 5xx from the raw ``IntegrityError``.
    """
    item = Tracking(**{name: clean.get(name) for name in ITEM_FIELDS})
    session.add(item)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return None
    return item


def update_item(session: Session, *, item_id: int, changes: Mapping[str, Any]) -> Tracking:
    """Change only the given fields; ``scm_commit`` changes only when it is given.

    Here an explicit ``"scm_commit": null`` does clear the position (the item then
    restarts from the upstream head), because PATCH says exactly what to change.
    """
    clean = check_item_fields(changes, partial=True)
    if "scm_commit" in changes and changes["scm_commit"] is None:
        clean["scm_commit"] = None
    item = get_item(session, item_id=item_id)
    repo = clean.get("repo", item.repo)
    branch = clean.get("branch", item.branch)
    if (repo, branch) != (item.repo, item.branch):
        other = _find(session, repo=repo, branch=branch)
        if other is not None and other.id != item.id:
            raise ConflictError("a tracking item for this repo and branch already exists")
    for name, value in clean.items():
        setattr(item, name, value)
    session.flush()
    return item


def _delete_ids(session: Session, items: Sequence[Tracking]) -> int:
    """Delete items with their issues and runs (also issues linked only by repo/branch)."""
    ids = [item.id for item in items]
    if not ids:
        return 0
    pairs = [and_(Issue.repo == item.repo, Issue.branch == item.branch) for item in items]
    session.execute(delete(Issue).where(or_(Issue.tracking_id.in_(ids), *pairs)))
    session.execute(delete(Run).where(Run.tracking_id.in_(ids)))
    session.execute(delete(Tracking).where(Tracking.id.in_(ids)))
    session.expunge_all()
    return len(ids)


def delete_items(session: Session, *, repo: str, branch: str | None = None) -> int:
    """Delete the item (repo, branch), or every item of ``repo``; returns how many.

    Their issue rows and run history go with them. Nothing matching is a
    ``NotFoundError``.
    """
    query = select(Tracking).where(Tracking.repo == repo)
    if branch is not None:
        query = query.where(Tracking.branch == branch)
    count = _delete_ids(session, session.scalars(query).all())
    if count == 0:
        raise NotFoundError("no tracking item matches")
    return count


def delete_item(session: Session, *, item_id: int) -> None:
    _delete_ids(session, [get_item(session, item_id=item_id)])


def list_issues(
    session: Session,
    *,
    repo: str | None = None,
    branch: str | None = None,
    tracking_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Page:
    """Issue rows matching every given filter, oldest first."""
    conditions = []
    if repo is not None:
        conditions.append(Issue.repo == repo)
    if branch is not None:
        conditions.append(Issue.branch == branch)
    if tracking_id is not None:
        conditions.append(Issue.tracking_id == tracking_id)
    query = select(Issue).where(*conditions).order_by(Issue.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    rows = session.scalars(query).all()
    total = session.scalar(select(func.count(Issue.id)).where(*conditions)) or 0
    return Page(rows=rows, total=total)


def list_runs(session: Session, *, item_id: int, limit: int = 50, offset: int = 0) -> Page:
    """Runs of one item, newest first."""
    get_item(session, item_id=item_id)
    query = (
        select(Run)
        .where(Run.tracking_id == item_id)
        .order_by(Run.started_at.desc(), Run.id.desc())
        .offset(offset)
        .limit(limit)
    )
    rows = session.scalars(query).all()
    total = session.scalar(select(func.count(Run.id)).where(Run.tracking_id == item_id)) or 0
    return Page(rows=rows, total=total)


def item_status(session: Session, *, item_id: int) -> ItemStatus:
    item = get_item(session, item_id=item_id)
    query = (
        select(Run)
        .where(Run.tracking_id == item_id)
        .order_by(Run.started_at.desc(), Run.id.desc())
        .limit(1)
    )
    return ItemStatus(item=item, last_run=session.scalars(query).first())
