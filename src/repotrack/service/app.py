"""The application factory: settings in, a ready FastAPI app out (nothing at import time).

``create_app(settings)`` opens the state database (migrating it to the newest
schema), builds the authenticator, mounts the routers named in
``routes.ROUTERS`` and, in the lifespan, starts the tracker's scheduler when
``repotrack.tracking.scheduler`` provides ``start_scheduler(app_state) -> stop``.
``app.state`` carries ``settings``, ``state_db``, ``auth`` and ``loads`` (the load job
runner) for the dependencies, and ``tracker`` ("running", "off" or "failed") for
``/healthz``. At shutdown the runner stops first (a running load ends unpublished,
or is abandoned after a grace period if it will not stop), then the store is closed
(unless a load thread was abandoned). ``confinement`` holds ``[loads] allowed_roots``.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from repotrack import __version__
from repotrack.config import Settings
from repotrack.service.auth import BasicAuth
from repotrack.service.body_limits import BodyGuard
from repotrack.service.confine import Confinement
from repotrack.service.docs import install_offline_docs
from repotrack.service.error_docs import install_error_docs
from repotrack.service.errors import install_error_handlers
from repotrack.service.job_queue import (
    QueuedLoadRunner,
    parse_broker_url,
    start_queued_scans,
)
from repotrack.service.jobs import LoadRunner
from repotrack.service.routes import ROUTERS
from repotrack.service.store_holder import StoreHolder
from repotrack.state import StateDB

if TYPE_CHECKING:
    from repotrack.store import Store

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_SCHEDULER_MODULE = "repotrack.tracking.scheduler"


def create_app(
    settings: Settings, *, state_db: StateDB | None = None, scheduler: bool = True
) -> FastAPI:
    """Build the service for ``settings``.

    ``state_db`` lets a caller share an already-open database (it is then not
    closed at shutdown); ``scheduler=False`` serves the API without tracking.
    """
    owned = state_db is None
    db = state_db if state_db is not None else StateDB(settings.state_url)
    app = FastAPI(
        title="repotrack",
        version=__version__,
        summary="Upstream patch tracking for RPM distributions (patch-tracking compatible)",
        redirect_slashes=False,
        lifespan=_lifespan(db=db, owned=owned, scheduler=scheduler),
        docs_url=None,  # served from installed files instead of a CDN (service.docs)
        redoc_url=None,
    )
    install_offline_docs(app)
    app.state.settings = settings
    app.state.state_db = db
    app.state.store_holder = StoreHolder(settings.store_url)
    app.state.confinement = Confinement(settings.loads.allowed_roots)
    broker = parse_broker_url(settings.queue.url)
    app.state.loads = (
        QueuedLoadRunner(broker)  # [queue] url: loads go to repotrack daemon --worker
        if broker is not None
        else LoadRunner(
            _job_store(app),
            migrate_store=settings.store_url.startswith("chdb:"),
            job_timeout=settings.loads.job_timeout,
            check=app.state.confinement.check_job,
        )
    )
    app.state.auth = BasicAuth.from_settings(settings.service)
    app.state.tracker = "off"
    app.state.feeds = _feed_scheduler(settings, db, _job_store(app))
    install_error_handlers(app)
    install_error_docs(app)
    app.add_middleware(BodyGuard)
    for name in ROUTERS:
        module = importlib.import_module(f"{ROUTERS_PACKAGE}.{name}")
        app.include_router(module.router)
    return app


ROUTERS_PACKAGE = "repotrack.service.routes"


def _job_store(app: FastAPI) -> Callable[[], Store]:
    """The store loads write to: the one a caller gave the app, else the service's own."""

    def store() -> Store:
        shared: Store | None = getattr(app.state, "store", None)
        if shared is not None:
            return shared
        held: Store = app.state.store_holder.get()
        return held

    return store


def _feed_scheduler(settings: Settings, db: StateDB, store: Callable[[], Store]) -> Any:
    from repotrack.daemon.feeds import FeedScheduler

    return FeedScheduler(settings, db, store)


def _find_scheduler() -> Callable[[Any], Callable[[], None]] | None:
    """The tracker's ``start_scheduler`` if that module exists (its own errors propagate)."""
    if importlib.util.find_spec(_SCHEDULER_MODULE) is None:
        return None
    module = importlib.import_module(_SCHEDULER_MODULE)
    start: Callable[[Any], Callable[[], None]] | None = getattr(module, "start_scheduler", None)
    return start


def _start_tracker(app: FastAPI) -> Callable[[], None] | None:
    """Start the scheduler; on failure keep serving the API and say so in /healthz.

    Like the original (whose API kept serving when the tracker could not start), but
    the failure is visible: logged with its traceback and reported as
    ``"tracker": "failed"`` by ``/healthz``.
    """
    settings: Settings = app.state.settings
    broker = parse_broker_url(settings.queue.url)
    if broker is not None:  # [queue] url: the scans go to repotrack daemon --worker
        app.state.tracker = "running"
        log.info("tracking scans go to the job queue")
        return start_queued_scans(broker, float(settings.tracking.scan_interval))
    try:
        start = _find_scheduler()
        if start is None:
            log.warning("no tracking scheduler available: serving the API only")
            app.state.tracker = "off"
            return None
        stop = start(app.state)
    except Exception:
        log.exception("the tracking scheduler failed to start: serving the API only")
        app.state.tracker = "failed"
        return None
    app.state.tracker = "running"
    log.info("tracking scheduler started")
    return stop


def _lifespan(*, db: StateDB, owned: bool, scheduler: bool) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = _start_tracker(app) if scheduler else None
        if not scheduler:
            app.state.tracker = "off"
        else:
            app.state.feeds.start()
        try:
            yield
        finally:
            app.state.feeds.stop()
            if stop is not None:
                stop()
                log.info("tracking scheduler stopped")
            clean = app.state.loads.shutdown()
            app.state.auth.close()
            if clean:
                app.state.store_holder.close()
            else:
                # A load thread is stuck (maybe inside the store): closing the store
                # could wait for it forever; the process is ending and releases it.
                log.error("a load did not stop in time: leaving the store to process exit")
            if owned:
                db.close()

    return lifespan
