"""Request and response shapes of ``/api/v1``, apart from the tables.

Input models are strict (no "true" for a boolean, no 1 for a string) and forbid
unknown keys; the same checks as every other door then run in
``repotrack.state.tracking_items.check_item_fields``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
)
from pydantic_core import PydanticCustomError

from repotrack.state.models import NAME_MAX, SHA_MAX, URL_MAX

__all__ = [
    "Health",
    "IssueOut",
    "ItemCreate",
    "ItemOut",
    "ItemPatch",
    "ItemStatusOut",
    "LoadCreate",
    "LoadJobOut",
    "PageOut",
    "RunOut",
]

T = TypeVar("T")


def _as_utc(value: datetime) -> datetime:
    """Timestamps are stored in UTC; SQLite hands them back naive, so mark them."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: A UTC timestamp, serialised with its offset (``2026-01-02T03:04:05Z`` style).
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
VersionControl = Literal["github", "git"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ItemCreate(_Input):
    """A new tracking item: downstream ``repo``/``branch`` follows ``scm_repo``/``scm_branch``."""

    version_control: VersionControl
    scm_repo: str = Field(min_length=1, max_length=URL_MAX, examples=["openssl/openssl"])
    scm_branch: str = Field(min_length=1, max_length=NAME_MAX, examples=["master"])
    scm_commit: str | None = Field(
        default=None, max_length=SHA_MAX, description="Start after this commit; null: from head"
    )
    repo: str = Field(
        min_length=1, max_length=URL_MAX, examples=["https://gitee.com/src-openeuler/openssl"]
    )
    branch: str = Field(min_length=1, max_length=NAME_MAX, examples=["master"])
    enabled: bool = True


def _only_commit_nullable(schema: dict[str, Any]) -> None:
    """``ItemPatch``'s schema: a field may be left out, but only ``scm_commit`` may be
    null (null: from the upstream head). The others are typed ``X | None`` so that an
    absent field reads as None, and a null is refused with 422 (``_check_field``); the
    schema said ``X or null``, so a client generated from it sent nulls and was refused."""
    for name, prop in schema.get("properties", {}).items():
        kinds = prop.get("anyOf")
        if name == "scm_commit" or not kinds:
            continue
        (kind,) = [k for k in kinds if k.get("type") != "null"]
        del prop["anyOf"]
        prop.pop("default", None)
        prop.update(kind)


class ItemPatch(_Input):
    """Fields to change; absent fields (``scm_commit`` included) keep their value."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_only_commit_nullable)

    version_control: VersionControl | None = None
    scm_repo: str | None = Field(default=None, min_length=1, max_length=URL_MAX)
    scm_branch: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    scm_commit: str | None = Field(default=None, max_length=SHA_MAX)
    repo: str | None = Field(default=None, min_length=1, max_length=URL_MAX)
    branch: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    enabled: bool | None = None


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ItemOut(_Output):
    id: int
    version_control: str
    scm_repo: str
    scm_branch: str
    scm_commit: str | None
    repo: str
    branch: str
    enabled: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


class RunOut(_Output):
    id: int
    tracking_id: int
    started_at: UtcDatetime
    finished_at: UtcDatetime | None
    outcome: str
    error: str | None
    commits_processed: int
    from_commit: str | None
    to_commit: str | None
    branch_name: str | None
    issue_number: str | None
    pr_number: str | None
    pr_url: str | None
    verification: str | None


class ItemStatusOut(BaseModel):
    """What the tracker last knew about an item."""

    id: int
    repo: str
    branch: str
    enabled: bool
    scm_commit: str | None
    consecutive_failures: int
    last_error: str | None
    backoff_until: UtcDatetime | None
    commits_behind: int | None = Field(description="null when the last scan could not tell")
    last_run: RunOut | None


class IssueOut(_Output):
    id: int
    issue: str
    repo: str | None
    branch: str | None
    tracking_id: int | None
    created_at: UtcDatetime


class PageOut(BaseModel, Generic[T]):
    """One page of a listing; ``total`` counts every match, not just this page."""

    items: list[T]
    total: int
    limit: int
    offset: int


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    tracker: Literal["running", "off", "failed"]
    version: str


# -- /api/v1/loads -------------------------------------------------------------------

#: The most worker processes a load may ask for (``load_repo`` checks the same bound).
LOAD_WORKERS_MAX = 64
#: The earliest snapshot date a load may name; the latest is the end of next year.
FIRST_LOAD_DAY = dt.date(1990, 1, 1)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def machine_cores() -> int:
    """The cores this process may run on: the most load workers that still help."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def has_control_characters(text: str) -> bool:
    """C0/C1 controls, DEL and lone surrogates: never part of a name."""
    return any(ch < " " or "\x7f" <= ch <= "\x9f" or "\ud800" <= ch <= "\udfff" for ch in text)


def within_cores(value: int) -> int:
    """Load workers: at most the service machine's cores (more would not help)."""
    cores = machine_cores()
    if value > cores:
        raise PydanticCustomError(
            "too_many_workers",
            "must be at most {cores} (the service machine's cores)",
            {"cores": cores},
        )
    return value


class LoadCreate(_Input):
    """A load for the service to run: the arguments of ``repotrack load repo``, or
    (``kind`` ``image``/``iso``) of ``repotrack load image|iso``.

    ``path`` is read by the service, so it must be absolute and exist on the
    service's machine. The image fields are checked as the CLI checks its options.
    """

    kind: Literal["repo", "image", "iso"] = "repo"
    branch: str = Field(min_length=1, max_length=NAME_MAX, pattern=r"^[^\s/\\]+$", examples=["p10"])
    path: str = Field(min_length=1, max_length=4096, examples=["/srv/mirror/p10/date/2024-05-01"])
    date: dt.date = Field(
        strict=False, description="Snapshot date, YYYY-MM-DD (UTC), 1990-01-01 to next year"
    )
    tag: str = Field(default="", max_length=NAME_MAX)
    force: bool = False
    workers: int = Field(
        default=1, ge=1, le=LOAD_WORKERS_MAX, description="At most the service machine's cores"
    )
    skip_bad: bool = Field(
        default=False, description="Leave damaged packages out (listed in the summary)"
    )
    verify_known: bool = Field(
        default=False, description="Re-read packages the store holds and check them"
    )
    # kind image/iso: the options of ``repotrack load image|iso`` (altrepo §4.1).
    file: str | None = Field(default=None, max_length=NAME_MAX, description="Stored file name")
    edition: str | None = Field(default=None, max_length=NAME_MAX, examples=["alt-workstation"])
    version: str | None = Field(default=None, max_length=NAME_MAX, examples=["10.1.0"])
    release: str | None = Field(default=None, max_length=NAME_MAX, examples=["release"])
    platform: str | None = Field(default=None, max_length=NAME_MAX)
    variant: str | None = Field(default=None, max_length=NAME_MAX, examples=["install"])
    flavor: str | None = Field(default=None, max_length=NAME_MAX)
    arch: str | None = Field(default=None, max_length=NAME_MAX, examples=["x86_64"])
    url: str | None = Field(default=None, max_length=URL_MAX)
    image_type: str | None = Field(default=None, max_length=NAME_MAX, examples=["qcow"])
    dry_run: bool = Field(default=False, description="Image loads: check, store nothing")

    @field_validator(
        "branch", "tag", "path", "file", "edition", "version", "release", "platform",
        "variant", "flavor", "arch", "url", "image_type",
    )  # fmt: skip
    @classmethod
    def _no_controls(cls, value: str | None) -> str | None:
        if value is not None and has_control_characters(value):
            raise PydanticCustomError("control_character", "must not contain control characters")
        return value

    @field_validator("workers")
    @classmethod
    def _within_cores(cls, value: int) -> int:
        return within_cores(value)

    @field_validator("date")
    @classmethod
    def _sane_day(cls, value: dt.date) -> dt.date:
        last = dt.date(datetime.now(UTC).year + 1, 12, 31)
        if not FIRST_LOAD_DAY <= value <= last:
            raise PydanticCustomError(
                "date_range",
                "must be between {first} and {last}",
                {"first": FIRST_LOAD_DAY.isoformat(), "last": last.isoformat()},
            )
        return value

    @field_validator("date", mode="before")
    @classmethod
    def _day_text(cls, value: Any) -> Any:
        """Only ``YYYY-MM-DD`` text: not a number of seconds, not a date-time."""
        if not isinstance(value, str) or not _DAY.fullmatch(value):
            raise PydanticCustomError("date_format", "expected a date as YYYY-MM-DD")
        return value

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if "\x00" in value or not PurePosixPath(value).is_absolute():
            raise PydanticCustomError(
                "absolute_path", "must be an absolute path on the service's machine"
            )
        return value


#: Task directories one ``load task`` job may name (girar's queue rarely holds more).
TASK_PATHS_MAX = 1000


def _service_path(value: str) -> str:
    """An absolute path on the service's machine, free of control characters."""
    if has_control_characters(value) or not PurePosixPath(value).is_absolute():
        raise PydanticCustomError(
            "absolute_path", "must be an absolute path on the service's machine"
        )
    return value


ServicePath = Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(_service_path)]


class TaskLoadCreate(_Input):
    """``repotrack load task``: girar task directories, loaded in turn."""

    kind: Literal["task"]
    paths: list[ServicePath] = Field(
        min_length=1, max_length=TASK_PATHS_MAX, examples=[["/srv/girar/tasks/345678"]]
    )
    force: bool = False
    workers: int = Field(
        default=1,
        ge=1,
        le=LOAD_WORKERS_MAX,
        description="Package readers; more than the service machine's cores count as its cores "
        "(task_loader's default is 4, the original's)",
    )
    flush: bool = Field(default=False, description="Flush the store's buffers afterwards")

    @field_validator("workers")
    @classmethod
    def _at_most_cores(cls, value: int) -> int:
        return min(value, machine_cores())


class PackageLoadCreate(_Input):
    """``repotrack load package``: one source RPM."""

    kind: Literal["package"]
    path: ServicePath = Field(examples=["/srv/uploads/foo-1.0-alt1.src.rpm"])
    force: bool = False
    flush: bool = False


class TaskCleanCreate(_Input):
    """``repotrack tasks clean``: open tasks whose directory is gone become DELETED."""

    kind: Literal["task-clean"]
    tasks_dir: ServicePath = Field(examples=["/srv/girar/tasks"])
    task: int | None = Field(default=None, gt=0, lt=2**32, description="Only this task")
    dry_run: bool = False


def _feed_location(value: str) -> str:
    """An absolute path on the service's machine, or an http(s) URL the job fetches."""
    if has_control_characters(value):
        raise PydanticCustomError("feed_location", "must not hold control characters")
    if value.startswith(("http://", "https://")):
        return value
    return _service_path(value)


FeedLocation = Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(_feed_location)]


class VulnLoadCreate(_Input):
    """``repotrack load vulns``: vulnerability feed files, directories or URLs."""

    kind: Literal["vulns"]
    source: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z0-9]+$",
        examples=["nvd"],
        description=(
            "nvd, cve5, osv, ghsa, csaf, cvrf, oval, bdu, almalinux, redhat, updateinfo, "
            "cpematch or cvechecked"
        ),
    )
    paths: list[FeedLocation] = Field(
        min_length=1, max_length=TASK_PATHS_MAX, examples=[["/srv/feeds/nvdcve-2.0-2024.json"]]
    )


def _load_kind(value: Any) -> str:
    """The ``kind`` of a load body; a body without one is a repository load (as before)."""
    kind = value.get("kind", "repo") if isinstance(value, dict) else getattr(value, "kind", "")
    if kind in ("image", "iso"):  # LoadCreate holds repository, image and ISO loads
        return "repo"
    return kind if isinstance(kind, str) else ""


#: ``POST /api/v1/loads``: one of the load kinds, told apart by ``kind``.
AnyLoadCreate = Annotated[
    Annotated[LoadCreate, Tag("repo")]
    | Annotated[TaskLoadCreate, Tag("task")]
    | Annotated[PackageLoadCreate, Tag("package")]
    | Annotated[TaskCleanCreate, Tag("task-clean")]
    | Annotated[VulnLoadCreate, Tag("vulns")],
    Discriminator(_load_kind),
]


class TaskJobSummaryOut(BaseModel):
    """What a finished ``task``, ``package``, ``task-clean`` or ``vulns`` job did: ``lines``
    is what the command prints (``line``: the same, joined by newlines)."""

    kind: str
    lines: list[str]
    line: str
    seconds: float
    read: list[int] = Field(default_factory=list, description="task: the tasks read")
    deleted: list[int] = Field(default_factory=list, description="task-clean: marked DELETED")
    unclear: list[tuple[int, str, str]] = Field(
        default_factory=list, description="task-clean: task id, state stored, state on disk"
    )
    problems: list[str] = Field(
        default_factory=list, description="vulns: the records that could not be read"
    )


class TaskJobParamsOut(BaseModel):
    """A task-side job's arguments (each kind fills its own)."""

    paths: list[str] | None = None
    path: str | None = None
    source: str | None = None
    tasks_dir: str | None = None
    task: int | None = None
    force: bool = False
    workers: int | None = None
    flush: bool = False
    dry_run: bool = False


class BadPackageOut(BaseModel):
    """A package a ``skip_bad`` load left out, and why."""

    file: str
    reason: str


class LoadSummaryOut(BaseModel):
    """What a finished load did; ``line`` is the summary line the CLI prints."""

    branch: str
    date: dt.date
    tag: str
    kind: str
    root_uuid: str
    packages: int
    new: int
    known: int
    files: int
    seconds: float
    bad: list[BadPackageOut] = Field(default_factory=list)
    line: str


class ImageLoadSummaryOut(BaseModel):
    """What a finished image or ISO load did; ``line`` is the summary line the CLI prints.

    ``unknown``: packages the store holds no row for (loaded with ``force``); ``base``:
    the branch snapshot that holds most of them (``null`` when none does);
    ``root_uuid`` is empty for a dry run.
    """

    branch: str
    date: dt.date
    tag: str
    kind: str
    root_uuid: str
    packages: int
    unknown: int
    base: dict[str, str | int] | None
    dry_run: bool
    seconds: float
    line: str


class LoadErrorOut(BaseModel):
    """Why a load failed: the error class (``ConflictError``, ``InputError``...), its
    one-line message, and the exit status the CLI gives for it."""

    type: str
    message: str
    exit_code: int


class LoadProgressOut(BaseModel):
    packages: int = Field(description="Packages done so far")
    new: int = Field(description="Of those, packages the store did not hold yet")
    total: int | None = Field(
        default=None, description="Packages planned; null until the tree is planned"
    )


class LoadParamsOut(BaseModel):
    branch: str
    path: str
    date: dt.date
    tag: str
    force: bool
    workers: int
    skip_bad: bool = False
    verify_known: bool = False


class ImageLoadParamsOut(BaseModel):
    """An image or ISO load's arguments (``kind`` image|iso)."""

    branch: str
    path: str
    date: dt.date
    file: str
    edition: str
    version: str
    release: str
    platform: str
    variant: str
    flavor: str
    arch: str
    url: str
    image_type: str
    force: bool
    dry_run: bool


class LoadJobOut(BaseModel):
    """A load job: ``queued``, ``running``, then ``done`` (with ``summary``) or ``failed``
    (with ``error``). ``params`` and ``error`` name server paths and file contents, so
    they are shown to the account only (``null`` for anonymous readers)."""

    id: str
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    params: LoadParamsOut | ImageLoadParamsOut | TaskJobParamsOut | None
    submitted_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    progress: LoadProgressOut
    summary: LoadSummaryOut | ImageLoadSummaryOut | TaskJobSummaryOut | None
    error: LoadErrorOut | None
    #: The ``repotrack daemon --worker`` that ran it (``<host> pid <n>``), for jobs sent to the
    #: job queue; ``null`` for loads the service runs itself.
    worker: str | None = None
    links: dict[str, str]
