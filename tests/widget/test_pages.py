"""The hosted booking page /b/{link} and the demo chat /demo/chat, through the app's HTTP interface."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from shared.agents.service import rotate_link
from shared.db import session_scope
from shared.models import Agent, MeetingType
from shared.models.agent import ROLE_MANAGER
from tests.factories import committed_agent

HOSTILE_NAME = 'Zoë <script>alert(1)</script> & "Co"'


def _meta(html: str, key: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', html)
    assert match, f"no meta {key}"
    return unescape(match.group(1))


def test_hosted_page_has_a_title_social_preview_and_the_widget(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, _ = committed_agent(db, name="Anna Kowalska")
    response = client.get(f"/b/{link}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<title>Book a call with Anna Kowalska · Meetings</title>" in html
    assert _meta(html, "og:title") == "Book a call with Anna Kowalska"
    assert _meta(html, "og:url") == f"http://testserver/b/{link}"
    assert _meta(html, "og:description") == (
        "Pick a time for a call with Anna Kowalska: Demo (30 min), Onboarding (45 min), Assistance (15 min)."
    )
    assert _meta(html, "twitter:card") == "summary"
    assert _meta(html, "twitter:title") == "Book a call with Anna Kowalska"
    assert f'<meetings-booking link="{link}"></meetings-booking>' in html
    assert '<script src="/widget.js" async></script>' in html
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_hosted_page_escapes_what_agents_typed(client: TestClient, db: sessionmaker[Session]) -> None:
    agent_id, link, types = committed_agent(db, name=HOSTILE_NAME)
    with session_scope(db) as session:
        meeting_type = session.get(MeetingType, types["Demo"])
        assert meeting_type is not None
        meeting_type.name = '<img src=x onerror="alert(2)">'
    html = client.get(f"/b/{link}").text
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert "Book a call with Zoë &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Co&#34;" in html
    assert _meta(html, "og:title") == f"Book a call with {HOSTILE_NAME}"
    assert '<img src=x onerror="alert(2)"> (30 min)' in _meta(html, "og:description")


def test_hosted_page_passes_a_language_and_ignores_an_odd_one(client: TestClient, db: sessionmaker[Session]) -> None:
    _, link, _ = committed_agent(db)
    assert f'<meetings-booking link="{link}" locale="pl">' in client.get(f"/b/{link}?locale=pl").text
    odd = client.get(f"/b/{link}", params={"locale": '"><script>alert(1)</script>'})
    assert odd.status_code == 200
    assert f'<meetings-booking link="{link}"></meetings-booking>' in odd.text


def test_unknown_and_rotated_links_get_a_404_page(client: TestClient, db: sessionmaker[Session]) -> None:
    agent_id, old_link, _ = committed_agent(db)
    with session_scope(db) as session:
        new_link = rotate_link(session, agent_id=agent_id).link

    for link in ("no-such-link", old_link):
        response = client.get(f"/b/{link}")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "<title>Booking link not found · Meetings</title>" in response.text
        assert "This booking link doesn't work" in response.text
        assert "meetings-booking" not in response.text
    assert client.get(f"/b/{new_link}").status_code == 200


def test_inactive_agents_link_gets_the_404_page(client: TestClient, db: sessionmaker[Session]) -> None:
    agent_id, link, _ = committed_agent(db)
    with session_scope(db) as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        agent.active = False
    assert client.get(f"/b/{link}").status_code == 404


def test_demo_chat_without_agents_says_how_to_get_one(client: TestClient) -> None:
    response = client.get("/demo/chat")
    assert response.status_code == 200
    assert "No agent to demo yet" in response.text
    assert "meetings demo" in response.text
    assert "data-meetings-chat" not in response.text


def test_demo_chat_carries_the_first_active_agents_link(client: TestClient, db: sessionmaker[Session]) -> None:
    committed_agent(db, name="Maya Manager", role=ROLE_MANAGER)
    gone_id, _, _ = committed_agent(db, name="Gone Agent")
    with session_scope(db) as session:
        gone = session.get(Agent, gone_id)
        assert gone is not None
        gone.active = False
    _, link, _ = committed_agent(db, name=HOSTILE_NAME)
    committed_agent(db, name="Later Agent")

    response = client.get("/demo/chat")
    html = response.text
    assert response.status_code == 200
    assert f'<a href="http://testserver/b/{link}"' in html
    assert html.count("/b/") == html.count(f"/b/{link}") == 2  # the link and its text, no other agent
    assert '<div class="log" data-meetings-chat' in html
    assert '<script src="http://testserver/widget.js" async></script>' in html
    assert "Zoë &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "Maya Manager" not in html
    assert "Later Agent" not in html
    # The page's own inline script runs by nonce, nothing else inline does.
    nonce = re.search(r'<script nonce="([^"]+)">', html)
    assert nonce
    assert f"'nonce-{nonce.group(1)}'" in response.headers["content-security-policy"]
