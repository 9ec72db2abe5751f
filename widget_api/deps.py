"""Typed dependencies: one database session per request, committed once at the edge."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from shared.availability.busy import BusyTimeSource
from shared.db import session_scope
from shared.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with session_scope(factory) as session:
        yield session


def get_now(request: Request) -> datetime:
    """The clock, injectable so tests can pin 'now'."""
    now: datetime = request.app.state.clock()
    return now


def get_busy_sources(request: Request) -> list[BusyTimeSource]:
    sources: list[BusyTimeSource] = request.app.state.busy_sources()
    return sources


# scope="function": the commit runs before the response is sent, so a failed COMMIT answers 503 and
# never a 201 for a booking that was not stored (the default runs it after the response went out).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]
BusySourcesDep = Annotated[list[BusyTimeSource], Depends(get_busy_sources)]


def require_admin(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> None:
    """Manager scope: `Authorization: Bearer <MEETINGS_ADMIN_TOKEN>`, compared in constant time."""
    if not authorization:
        raise HTTPException(status_code=401, detail="missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            status_code=401, detail="expected 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"}
        )
    if not hmac.compare_digest(token.encode(), settings.admin_token.encode()):
        raise HTTPException(status_code=403, detail="invalid admin token")


AdminDep = Annotated[None, Depends(require_admin)]
