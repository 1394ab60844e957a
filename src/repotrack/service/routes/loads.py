"""``/api/v1/loads``: hand a load to the service, which owns the analytics store.

While ``repotrack serve`` runs it holds the embedded chDB store, so a CLI load cannot
open it; ``repotrack load repo`` then submits its job here and follows it. The
service runs ``repotrack.ingest.load_repo`` (for ``kind`` ``image``/``iso``,
``repotrack.ingest.image.load_image``) in its job runner (``service.jobs``), one
load at a time, in submission order, each within ``[loads] job_timeout``. Submitting
and cancelling need the account (like every ``/api/v1`` write), and the path must lie
under ``[loads] allowed_roots``; reading jobs follows ``require_auth_for_reads``, but
a job's ``params`` and ``error`` (server paths, file contents) are shown to the
account only. ``kind`` picks the job: ``repo`` (the default), ``task``, ``package``,
``task-clean`` or ``vulns`` (``repotrack load task|package``, ``repotrack tasks clean``,
``repotrack load vulns``: its ``paths`` may also be http(s) URLs, which the job fetches).

Examples::

    POST /api/v1/loads  (Basic auth)
    {"kind": "repo", "branch": "p10", "path": "/srv/p10/date/2024-05-01",
     "date": "2024-05-01", "tag": "", "force": false, "workers": 4}
    -> 202 Location: /api/v1/loads/4b0c...  {"id": "4b0c...", "state": "queued", ...,
       "links": {"self": "/api/v1/loads/4b0c..."}}

    GET /api/v1/loads/4b0c...?wait=10   (answers when the job ends, or after 10 s)
    -> 200 {"state": "done", "progress": {"packages": 8, "new": 8},
            "summary": {"packages": 8, "new": 8, "known": 0, "line": "p10 2024-05-01: ..."},
            "error": null, ...}
    (or "state": "failed", "error": {"type": "ConflictError", "message":
     "p10 2024-05-01 is already loaded (use --force to load it again)", "exit_code": 1})

    POST /api/v1/loads  (an ISO; ``kind`` "image" takes ``image_type`` tar|img|qcow)
    {"kind": "iso", "path": "/srv/images/alt-p10.iso", "branch": "p10",
     "date": "2024-05-02", "edition": "alt-workstation", "version": "10.1",
     "release": "release", "variant": "install", "arch": "x86_64",
     "url": "https://example.org/alt-p10.iso"}
    -> 202, then "summary": {"tag": "p10:alt-workstation:::...", "packages": 6,
       "unknown": 0, "line": "...", ...}; progress counts MiB of the image read

    GET /api/v1/loads?limit=20 -> 200 {"items": [...newest first...], "total": 3, ...}

    DELETE /api/v1/loads/4b0c...  (Basic auth)
    -> 200 {"state": "failed", "error": {"type": "Cancelled", ...}, ...}
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi import Path as PathParam

from repotrack.ingest.task_jobs import PackageLoadRequest, TaskCleanRequest, TaskLoadRequest
from repotrack.service.confine import Confinement
from repotrack.service.deps import ApiRead, ApiWrite, LoadsDep, LoggedIn, SettingsDep
from repotrack.service.jobs import KEEP_JOBS, MAX_WAIT, Job, RepoLoadParams
from repotrack.service.params import Offset
from repotrack.service.schemas import (
    AnyLoadCreate,
    ImageLoadParamsOut,
    ImageLoadSummaryOut,
    LoadCreate,
    LoadErrorOut,
    LoadJobOut,
    LoadParamsOut,
    LoadProgressOut,
    LoadSummaryOut,
    PackageLoadCreate,
    PageOut,
    TaskCleanCreate,
    TaskJobParamsOut,
    TaskJobSummaryOut,
    TaskLoadCreate,
    VulnLoadCreate,
)

if TYPE_CHECKING:
    from repotrack.config import Settings
    from repotrack.ingest.vulns import VulnLoad

__all__ = ["router"]

PREFIX = "/api/v1/loads"
router = APIRouter(prefix=PREFIX, tags=["loads"])

_RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing or wrong credentials"},
    404: {"description": "No such job (jobs are kept in memory: the last 100)"},
    409: {
        "description": "The service is stopping, too many jobs are waiting, or (DELETE) the "
        "job has finished"
    },
    413: {"description": "Request body too large"},
    422: {"description": "Invalid input, or a path that is not an allowed directory"},
    429: {"description": "Too many failed logins"},
}
JobId = Annotated[str, PathParam(max_length=64, description="The job id (a UUID)")]


@router.post("", status_code=202, dependencies=[ApiWrite], responses=_RESPONSES)
def submit_load(
    request: Request,
    runner: LoadsDep,
    settings: SettingsDep,
    body: AnyLoadCreate,
    response: Response,
) -> LoadJobOut:
    """Queue a load; follow it at ``links.self`` (also the ``Location`` header).

    ``kind`` says which: ``repo`` (the default), ``image`` or ``iso`` (one image file),
    ``task`` (girar task directories), ``package`` (one source RPM) or ``task-clean``
    (close the tasks girar removed).
    """
    confinement: Confinement = request.app.state.confinement
    if isinstance(body, LoadCreate) and body.kind != "repo":
        from repotrack.ingest.image import ImageLoad

        confinement.check_root(Path(body.path))
        plain = body.model_dump(exclude={"tag", "workers", "skip_bad", "verify_known"})
        job = runner.submit_image_load(
            ImageLoad.from_dict({**plain, "date": body.date.isoformat()})
        )
        response.headers["Location"] = _self(job)
        return job_out(job, full=True)
    if isinstance(body, LoadCreate):
        confinement.check_root(Path(body.path))
        job = runner.submit_repo_load(
            RepoLoadParams(
                branch=body.branch,
                path=Path(body.path),
                date=body.date,
                tag=body.tag,
                force=body.force,
                workers=body.workers,
                skip_bad=body.skip_bad,
                verify_known=body.verify_known,
            )
        )
    elif isinstance(body, VulnLoadCreate):
        vulns = _vuln_params(body, settings)
        for path in vulns.read_paths():
            confinement.check_root(path)
        job = runner.submit_vuln_load(vulns)
    else:
        params = _task_params(body)
        for path in params.read_paths():
            confinement.check_root(path)
        job = runner.submit_task_job(params)
    response.headers["Location"] = _self(job)
    return job_out(job, full=True)


@router.get("", dependencies=[ApiRead], responses=_RESPONSES)
def list_loads(
    runner: LoadsDep,
    logged_in: LoggedIn,
    limit: Annotated[int, Query(ge=1, le=KEEP_JOBS, description="Page size")] = KEEP_JOBS,
    offset: Offset = 0,
) -> PageOut[LoadJobOut]:
    """Recent jobs, newest first (the service remembers the last 100 finished ones)."""
    jobs = runner.recent()
    page = [job_out(job, full=logged_in) for job in jobs[offset : offset + limit]]
    return PageOut[LoadJobOut](items=page, total=len(jobs), limit=limit, offset=offset)


@router.get("/{job_id}", dependencies=[ApiRead], responses=_RESPONSES)
def get_load(
    runner: LoadsDep,
    logged_in: LoggedIn,
    job_id: JobId,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=MAX_WAIT,
            description="Seconds to hold the answer while the job is queued or running: "
            "it comes as soon as the job ends, else after this long (0: at once)",
        ),
    ] = 0.0,
) -> LoadJobOut:
    """One job: its state, progress, and its summary or error once finished.

    ``wait`` lets a client follow a job without polling at fixed intervals: the answer
    comes when the job ends (or after ``wait`` seconds, with its progress then).
    """
    return job_out(runner.get(job_id, wait=wait), full=logged_in)


@router.delete("/{job_id}", dependencies=[ApiWrite], responses=_RESPONSES)
def cancel_load(runner: LoadsDep, job_id: JobId) -> LoadJobOut:
    """Cancel a queued or running job; answers once it has ended (nothing is published).

    A running load stops between two packages; one that does not stop within a few
    seconds (stuck on its input) is abandoned and the next job starts.
    """
    return job_out(runner.cancel(job_id), full=True)


def _vuln_params(body: VulnLoadCreate, settings: Settings) -> VulnLoad:
    """The job's parameters, with the service's own NVD API key (never the caller's)."""
    from repotrack.ingest.vulns import VulnLoad, source_names

    if body.source not in source_names():
        from repotrack.errors import InputError

        raise InputError(
            f"unknown vulnerability source {body.source!r} (known: {', '.join(source_names())})",
            field="source",
        )
    return VulnLoad(body.source, tuple(body.paths), settings.vulns.resolved_nvd_api_key())


def _task_params(
    body: TaskLoadCreate | PackageLoadCreate | TaskCleanCreate,
) -> TaskLoadRequest | PackageLoadRequest | TaskCleanRequest:
    if isinstance(body, TaskLoadCreate):
        return TaskLoadRequest(
            tuple(Path(p) for p in body.paths), body.force, body.workers, body.flush
        )
    if isinstance(body, PackageLoadCreate):
        return PackageLoadRequest(Path(body.path), body.force, body.flush)
    return TaskCleanRequest(Path(body.tasks_dir), body.task, body.dry_run)


def _self(job: Job) -> str:
    return f"{PREFIX}/{job.id}"


def job_out(job: Job, *, full: bool) -> LoadJobOut:
    """The job as the API shows it; without ``full``, no parameters and no error."""
    params: LoadParamsOut | ImageLoadParamsOut | TaskJobParamsOut | None = None
    summary: LoadSummaryOut | ImageLoadSummaryOut | TaskJobSummaryOut | None = None
    if job.kind == "repo":
        if full:
            params = LoadParamsOut.model_validate(job.params.as_dict())
        if job.summary:
            summary = LoadSummaryOut.model_validate(job.summary)
    elif job.kind in ("image", "iso"):
        if full:
            params = ImageLoadParamsOut.model_validate(job.params.as_dict())
        if job.summary:
            summary = ImageLoadSummaryOut.model_validate(job.summary)
    else:
        if full:
            given = {k: v for k, v in job.params.as_dict().items() if k != "kind"}
            params = TaskJobParamsOut.model_validate(given)
        if job.summary:
            summary = TaskJobSummaryOut.model_validate(job.summary)
    return LoadJobOut(
        id=job.id,
        kind=job.kind,
        state=job.state,
        params=params,
        submitted_at=job.submitted_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        progress=LoadProgressOut(packages=job.done, new=job.new, total=job.total),
        summary=summary,
        error=LoadErrorOut(**dataclasses.asdict(job.error)) if job.error and full else None,
        worker=job.worker if full else None,
        links={"self": _self(job)},
    )
