"""Hosted pages and the embed script: /widget.js, /b/{link}, /demo/chat.

HTML comes from Jinja2 templates with autoescape on, so agent names, meeting type names and
descriptions are escaped wherever they are shown.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from shared.agents.errors import LinkNotFound
from shared.agents.service import bookable_meeting_types, get_agent_by_link
from shared.models import Agent, Team
from shared.models.agent import ROLE_MANAGER
from shared.models.team import MODE_COLLECTIVE
from shared.teams.service import bookable_team_meeting_types, find_team_by_link
from widget_api.deps import SessionDep, SettingsDep

router = APIRouter(tags=["pages"])

WIDGET_SOURCE = Path(__file__).resolve().parents[2] / "widget_js" / "widget.js"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
# The script URL carries no version, so browsers revalidate it every few minutes (a cheap 304).
WIDGET_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"
# The hosted page runs no inline script; the widget is the only code on it.
HOSTED_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'"
)
LOCALE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}")


@dataclass(frozen=True)
class WidgetScript:
    plain: bytes
    gzipped: bytes
    etag: str


_script_cache: dict[int, WidgetScript] = {}


def widget_script() -> WidgetScript:
    """widget.js as served, read once per file version (a changed file is picked up in development)."""
    version = WIDGET_SOURCE.stat().st_mtime_ns
    cached = _script_cache.get(version)
    if cached is None:
        plain = WIDGET_SOURCE.read_bytes()
        digest = hashlib.sha256(plain).hexdigest()[:32]
        cached = WidgetScript(plain=plain, gzipped=gzip.compress(plain, 9, mtime=0), etag=f'"{digest}"')
        _script_cache.clear()
        _script_cache[version] = cached
    return cached


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


def _render(name: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    return HTMLResponse(
        TEMPLATES.get_template(name).render(**context),
        status_code=status_code,
        headers={"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", **(headers or {})},
    )


# HEAD is answered too (caches and link checkers ask it) but documented once, under GET.
@router.head("/widget.js", response_class=Response, include_in_schema=False)
@router.get("/widget.js", response_class=Response)
def widget_js(
    accept_encoding: Annotated[str | None, Header()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The embed script, with an ETag (304 on If-None-Match) and gzip when the client accepts it."""
    script = widget_script()
    use_gzip = "gzip" in (accept_encoding or "").lower()
    # Each encoding is a different representation, so each gets its own strong ETag.
    etag = script.etag[:-1] + '-gz"' if use_gzip else script.etag
    headers = {
        "ETag": etag,
        "Cache-Control": WIDGET_CACHE_CONTROL,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
        # Hosts that isolate their pages (COEP) may still load the script from our origin.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
    return Response(
        content=script.gzipped if use_gzip else script.plain,
        media_type="text/javascript; charset=utf-8",
        headers=headers,
    )


@router.get("/b/{link}", response_class=HTMLResponse, responses={404: {"description": "Unknown or rotated link"}})
def hosted_booking_page(
    link: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    locale: Annotated[str | None, Query(description="Language of the widget, e.g. pl; browser default")] = None,
) -> HTMLResponse:
    """The booking widget as a full page, for links in emails, with a title and social preview meta.
    A team's link (SPEC §15) names the team; the widget names the member once booked."""
    if locale is not None and not LOCALE.fullmatch(locale):
        locale = None  # a link in an email must still open: an odd language falls back to the browser's
    owner: Agent | Team | None
    try:
        owner = get_agent_by_link(session, link=link)
    except LinkNotFound:
        owner = find_team_by_link(session, link=link)
    if owner is None:
        return _render(
            "link_not_found.html",
            status_code=404,
            headers={"Cache-Control": "no-store", "Content-Security-Policy": HOSTED_PAGE_CSP},
        )
    if isinstance(owner, Team):
        meeting_types = bookable_team_meeting_types(session, team=owner)
    else:
        meeting_types = bookable_meeting_types(session, agent=owner)
    summary = ", ".join(f"{m.name} ({m.duration_minutes} min)" for m in meeting_types)
    description = f"Pick a time for a call with {owner.name}" + (f": {summary}." if summary else ".")
    return _render(
        "hosted.html",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": HOSTED_PAGE_CSP},
        agent=owner,
        team=owner if isinstance(owner, Team) else None,
        collective=isinstance(owner, Team) and owner.mode == MODE_COLLECTIVE,
        link=link,
        locale=locale,
        description=description,
        page_url=settings.booking_url(link),
        site_url=settings.base_url.rstrip("/"),
    )


def _demo_agent(session: SessionDep) -> Agent | None:
    """The agent the demo chat shows: the first active agent by id who is not a manager."""
    return session.scalar(
        select(Agent).where(Agent.active.is_(True), Agent.role != ROLE_MANAGER).order_by(Agent.id).limit(1)
    )


def _demo_team(session: SessionDep) -> Team | None:
    """The team the demo chat offers beside its agent (the demo's "Sales team"): the first by id."""
    return session.scalar(select(Team).where(Team.deleted_at.is_(None)).order_by(Team.id).limit(1))


@router.get("/demo/chat", response_class=HTMLResponse)
def demo_chat(session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """A support chat in which the agent's message carries a booking link that unfurls into the widget."""
    agent = _demo_agent(session)
    team = _demo_team(session) if agent else None
    base_url = settings.base_url.rstrip("/")
    # The page's one inline script (the host's event log) runs by nonce; the widget comes from the
    # base URL, as it would on a customer's site.
    nonce = secrets.token_urlsafe(16)
    csp = (
        f"default-src 'none'; script-src 'self' {base_url} 'nonce-{nonce}'; connect-src 'self' {base_url}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'"
    )
    return _render(
        "demo_chat.html",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": csp},
        agent=agent,
        nonce=nonce,
        booking_url=settings.booking_url(agent.link) if agent else None,
        team=team,
        team_url=settings.booking_url(team.link) if team else None,
        script_url=f"{base_url}/widget.js",
    )
