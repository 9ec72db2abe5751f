"""Typed dependencies: one database session per request, committed once at the edge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from shared.accounts.scoped import webhooks as scoped_webhooks
from shared.apitokens.actor import ApiActor, actor_for_token
from shared.availability.busy import BusyTimeSource
from shared.db import session_scope
from shared.settings import Settings


async def get_settings(request: Request) -> Settings:
    # async def (here and in get_now, get_busy_sources): they only read app.state, and a plain def
    # would cost each request a hand-off to the thread pool and back per dependency.
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with session_scope(factory) as session:
        yield session


async def get_now(request: Request) -> datetime:
    """The clock, injectable so tests can pin 'now'."""
    now: datetime = request.app.state.clock()
    return now


async def get_busy_sources(request: Request) -> list[BusyTimeSource]:
    sources: list[BusyTimeSource] = request.app.state.busy_sources()
    return sources


# scope="function": the commit runs before the response is sent, so a failed COMMIT answers 503 and
# never a 201 for a booking that was not stored (the default runs it after the response went out).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]
BusySourcesDep = Annotated[list[BusyTimeSource], Depends(get_busy_sources)]


def require_admin(
    settings: SettingsDep, session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> ApiActor:
    """`Authorization: Bearer <token>`: MEETINGS_ADMIN_TOKEN (manager scope, compared in constant time)
    or an agent's personal API token (that agent's scope). The routes check the scope per resource."""
    if not authorization:
        raise HTTPException(status_code=401, detail="missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            status_code=401, detail="expected 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"}
        )
    actor = actor_for_token(session, token=token, admin_token=settings.admin_token)
    if actor is None:
        raise HTTPException(status_code=403, detail="invalid admin token")
    return actor


AdminDep = Annotated[ApiActor, Depends(require_admin)]


def require_webhooks_access(actor: AdminDep) -> ApiActor:
    """The webhook endpoints' scope check, asked before the request body is read: an agent's token
    gets 403 whatever it sends (the scoped services check it again; the rule lives there)."""
    scoped_webhooks.require_access(actor)
    return actor
