"""CORS only for the embed origins on the public widget API; security headers on every response."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from shared.settings import Settings
from tests.factories import committed_agent
from tests.hardening.conftest import ClientFactory, booking_body
from widget_api.ratelimit.errors import InvalidTrustedProxy

CHAT = "https://chat.example.com"
EVIL = "https://evil.example.net"


@pytest.fixture
def embed_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"embed_origins": f"{CHAT}, https://help.example.org"})


def _preflight(client: TestClient, path: str, origin: str, method: str = "POST") -> dict[str, str]:
    response = client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type, idempotency-key",
        },
    )
    return {"status": str(response.status_code), **{k.lower(): v for k, v in response.headers.items()}}


def test_a_widget_api_answer_without_origin_varies_on_origin_and_allows_none(
    embed_settings: Settings, make_client: ClientFactory, db: sessionmaker[Session]
) -> None:
    # A cache in front of the API must not serve this answer to a page of an embed origin.
    _, link, types = committed_agent(db)
    slots = {"meeting_type_id": types["Demo"], "date": "2026-06-02", "tz": "Europe/Warsaw"}
    with make_client(embed_settings) as client:
        for response in (client.get(f"/api/v1/links/{link}"), client.get(f"/api/v1/links/{link}/slots", params=slots)):
            assert response.status_code == 200, response.text
            assert response.headers["vary"] == "Origin"
            assert not [name for name in response.headers if name.lower().startswith("access-control-")]


def test_the_widget_api_answers_embed_origins_only(
    embed_settings: Settings, make_client: ClientFactory, db: sessionmaker[Session]
) -> None:
    _, link, types = committed_agent(db)
    with make_client(embed_settings) as client:
        allowed = client.get(f"/api/v1/links/{link}", headers={"Origin": CHAT})
        assert allowed.headers["access-control-allow-origin"] == CHAT
        assert "Origin" in allowed.headers["vary"]
        assert (
            "access-control-allow-origin" not in client.get(f"/api/v1/links/{link}", headers={"Origin": EVIL}).headers
        )

        preflight = _preflight(client, f"/api/v1/links/{link}/bookings", CHAT)
        assert preflight["status"] == "200"
        assert preflight["access-control-allow-origin"] == CHAT
        assert "POST" in preflight["access-control-allow-methods"]
        assert "idempotency-key" in preflight["access-control-allow-headers"].lower()

        refused = _preflight(client, f"/api/v1/links/{link}/bookings", EVIL)
        assert refused["status"] == "400"
        assert "access-control-allow-origin" not in refused

        booked = client.post(
            f"/api/v1/links/{link}/bookings",
            json=booking_body(types["Demo"], "2026-06-02T09:00:00+02:00"),
            headers={"Origin": CHAT},
        )
        assert booked.status_code == 201
        assert booked.headers["access-control-allow-origin"] == CHAT
        assert _preflight(client, "/api/v1/events", CHAT)["access-control-allow-origin"] == CHAT


@pytest.mark.parametrize("embed_origins", [f"{CHAT}", "*"])
def test_the_admin_api_and_oauth_are_never_cors_open(
    embed_origins: str,
    settings: Settings,
    make_client: ClientFactory,
    admin_headers: dict[str, str],
) -> None:
    with make_client(settings, embed_origins=embed_origins) as client:
        for origin in (CHAT, EVIL):
            for path in ("/api/v1/admin/agents", "/api/v1/admin/funnel", "/oauth/google/callback"):
                simple = client.get(path, headers={"Origin": origin, **admin_headers})
                assert "access-control-allow-origin" not in simple.headers, (path, simple.status_code)
                preflight = _preflight(client, path, origin, method="GET")
                assert "access-control-allow-origin" not in preflight, path
                assert "access-control-allow-methods" not in preflight, path
            # Pages and the manage form are not readable cross-origin either.
            assert "access-control-allow-origin" not in client.get("/docs", headers={"Origin": origin}).headers
        # The public API with "*" answers any origin (no credentials are ever involved).
        if embed_origins == "*":
            public = _preflight(client, "/api/v1/events", EVIL)
            assert public["access-control-allow-origin"] == "*"


def test_a_rate_limited_answer_is_readable_by_the_widget(
    embed_settings: Settings, make_client: ClientFactory, db: sessionmaker[Session]
) -> None:
    _, link, _ = committed_agent(db)
    with make_client(embed_settings, rate_limit_enabled=True, rate_limit_reads_per_minute=1) as client:
        client.get(f"/api/v1/links/{link}", headers={"Origin": CHAT})
        limited = client.get(f"/api/v1/links/{link}", headers={"Origin": CHAT})
    assert limited.status_code == 429
    assert limited.headers["access-control-allow-origin"] == CHAT
    assert "retry-after" in limited.headers["access-control-expose-headers"].lower()


def _book(client: TestClient, db: sessionmaker[Session]) -> tuple[str, str]:
    _, link, types = committed_agent(db)
    created = client.post(
        f"/api/v1/links/{link}/bookings", json=booking_body(types["Demo"], "2026-06-02T09:00:00+02:00")
    ).json()
    return link, created["manage_url"].rsplit("/", 1)[1]


def test_every_response_says_nosniff_and_a_referrer_policy(client: TestClient, db: sessionmaker[Session]) -> None:
    link, token = _book(client, db)
    for path in (f"/api/v1/links/{link}", "/healthz", "/openapi.json", "/widget.js", "/no/such/page"):
        response = client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] in ("strict-origin-when-cross-origin", "no-referrer"), path
    api = client.get(f"/api/v1/links/{link}")
    assert api.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    # The manage token is in these URLs: never sent on in a Referer, never cached.
    for path in (f"/api/v1/bookings/{token}", f"/api/v1/bookings/{token}/ics", f"/manage/{token}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["referrer-policy"] == "no-referrer", path
        assert "no-store" in response.headers["cache-control"], path


def _csp(headers: httpx.Headers) -> dict[str, str]:
    header = headers["content-security-policy"]
    directives = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {d[0]: (d[1] if len(d) > 1 else "") for d in directives}


def test_html_pages_carry_a_csp_that_lets_the_widget_run(
    settings: Settings, make_client: ClientFactory, db: sessionmaker[Session]
) -> None:
    with make_client(settings, frame_ancestors="'self' https://chat.example.com") as client:
        link, token = _book(client, db)
        hosted = client.get(f"/b/{link}")
        assert hosted.status_code == 200
        hosted_csp = _csp(hosted.headers)
        assert "'self'" in hosted_csp["script-src"].split()
        assert "'unsafe-inline'" not in hosted_csp["script-src"]
        assert "'self'" in hosted_csp["connect-src"].split()
        assert hosted_csp["frame-ancestors"] == "'self' https://chat.example.com"
        assert "x-frame-options" not in hosted.headers  # frame-ancestors allows another origin

        missing = client.get("/b/no-such-link-000000000000")
        assert missing.status_code == 404
        assert _csp(missing.headers)["frame-ancestors"] == "'self' https://chat.example.com"

        chat = client.get("/demo/chat")
        assert chat.status_code == 200
        chat_csp = _csp(chat.headers)
        assert "'self'" in chat_csp["script-src"].split()
        assert chat_csp["frame-ancestors"] == "'self' https://chat.example.com"

        manage = client.get(f"/manage/{token}")
        assert _csp(manage.headers)["frame-ancestors"] == "'none'"
        assert manage.headers["referrer-policy"] == "no-referrer"

        docs = client.get("/docs")
        assert docs.status_code == 200
        docs_csp = _csp(docs.headers)
        assert "https://cdn.jsdelivr.net" in docs_csp["script-src"]
        assert docs_csp["frame-ancestors"] == "'none'"
        assert docs.headers["x-frame-options"] == "DENY"
        assert docs.headers["x-content-type-options"] == "nosniff"


def test_by_default_hosted_pages_may_be_framed_by_their_own_origin_only(
    client: TestClient, db: sessionmaker[Session]
) -> None:
    _, link, _ = committed_agent(db)
    hosted = client.get(f"/b/{link}")
    assert _csp(hosted.headers)["frame-ancestors"] == "'self'"
    assert hosted.headers["x-frame-options"] == "SAMEORIGIN"


def test_settings_that_would_inject_directives_or_trust_garbage_are_refused_at_start(settings: Settings) -> None:
    from widget_api.app import create_app

    with pytest.raises(ValueError, match="MEETINGS_FRAME_ANCESTORS"):
        create_app(settings.model_copy(update={"frame_ancestors": "'self'; script-src *"}))
    with pytest.raises(InvalidTrustedProxy, match="proxy.internal"):
        create_app(settings.model_copy(update={"trusted_proxy": "10.0.0.1, proxy.internal"}))
