"""The FastAPI application: public widget API, admin API, OAuth callback, hosted pages, widget.js."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shared.availability.busy import BusyTimeSource
from shared.availability.cache import AnswerCache, DriverVersionReader, install_invalidation
from shared.calendars.sources import busy_sources_for
from shared.db import build_engine, build_sessionmaker
from shared.models import utcnow
from shared.observability.logs import configure_logging
from shared.settings import Settings
from widget_api.errors import install_error_handlers
from widget_api.metrics import install_metrics
from widget_api.middleware import install_middleware
from widget_api.routes import admin, contacts_privacy, manage, oauth, pages, public, webhooks_admin


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    busy_sources: Callable[[], list[BusyTimeSource]] | None = None,
) -> FastAPI:
    """Build the app. The database engine is created at start-up (lifespan), never at import."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = build_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = build_sessionmaker(engine)
        # SQLite: one connection reserved for the event loop, where the slots/days answer cache is
        # validated without a thread hop (widget_api/routes/public.py). Its own pool of one, used
        # only by the loop thread and never across an await, so the loop never waits for a
        # connection that threads hold (which could need the loop to give it back).
        loop_engine = build_engine(settings, pool_size=1, max_overflow=0) if settings.is_sqlite else None
        app.state.loop_engine = loop_engine
        app.state.loop_version_reader = DriverVersionReader(loop_engine) if loop_engine is not None else None
        yield
        limiter = getattr(app.state, "rate_limiter", None)
        if limiter is not None:
            try:
                limiter.flush()  # batched read hits still pending in this process
            except SQLAlchemyError:
                logging.getLogger("meetings.app").warning("could not write pending rate-limit hits at shutdown")
        if app.state.loop_version_reader is not None:
            app.state.loop_version_reader.close()
        if loop_engine is not None:
            loop_engine.dispose()
        engine.dispose()

    app = FastAPI(
        title="Meetings",
        version="0.1.0",
        description="Booking API for live-chat widgets: public widget endpoints and the admin API.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.busy_sources = busy_sources or busy_sources_for(settings)  # + Google when configured
    # Slots / days answers reused for a few seconds (shared.availability.cache); this process's
    # commits invalidate them.
    install_invalidation()
    app.state.answer_cache = AnswerCache(ttl=settings.availability_cache_seconds)
    install_error_handlers(app)
    install_middleware(app, settings)  # CORS (public API only), rate limits, body size, headers, logs
    install_metrics(app, settings)  # GET /metrics and request counts, when MEETINGS_METRICS_ENABLED
    app.include_router(public.router)
    app.include_router(admin.router)
    app.include_router(contacts_privacy.router)
    app.include_router(webhooks_admin.router)
    app.include_router(oauth.router)
    app.include_router(pages.router)
    app.include_router(manage.router)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """200 when the database answers."""
        with app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory widget_api.app:app_factory`."""
    settings = Settings()
    configure_logging(settings)  # MEETINGS_LOG_FORMAT: the one format of every process (shared.observability.logs)
    return create_app(settings)
