"""Operations tests: /metrics, the one log format, `meetings doctor` (SPEC §17)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from shared.settings import Settings
from tests.conftest import ADMIN_TOKEN, Clock
from widget_api.app import create_app

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse_metrics(text: str) -> Samples:
    """Every sample of a Prometheus text answer, keyed by (sample name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, metric: str, /, **labels: str) -> float:
    return samples.get((metric, frozenset(labels.items())), 0.0)


@pytest.fixture
def metrics_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_enabled": True})


@pytest.fixture
def metrics_client(metrics_settings: Settings, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(metrics_settings, clock=clock)) as client:
        yield client


ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def scrape(http: httpx.Client | TestClient) -> Samples:
    answer = http.get("/metrics", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return parse_metrics(answer.text)


def booking_flow(http: httpx.Client | TestClient, *, link: str, meeting_type_id: int, first: str, second: str) -> str:
    """Steps 1–3, a booking, the same slot refused, a reschedule, a cancel; returns the manage token."""
    ids = {"visitor_id": "visitor-ops", "session_id": "session-ops", "link": link}
    for name, extra in (
        ("calendar_1st_step", {"meeting_type_id": meeting_type_id}),
        ("calendar_2nd_step", {"meeting_type_id": meeting_type_id, "date": first[:10]}),
        ("calendar_3rd_step", {"meeting_type_id": meeting_type_id, "start": first}),
    ):
        assert http.post("/api/v1/events", json={**ids, "name": name, **extra}).status_code == 202
    body = {
        "meeting_type_id": meeting_type_id,
        "start": first,
        "timezone": "Europe/Warsaw",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "Analytical Engines",
        "email": "ada.lovelace@example.com",
        "description": "Pricing question",
        "visitor_id": "visitor-ops",
        "session_id": "session-ops",
    }
    created = http.post(f"/api/v1/links/{link}/bookings", json=body)
    assert created.status_code == 201, created.text
    taken = http.post(f"/api/v1/links/{link}/bookings", json={**body, "email": "grace@example.com"})
    assert taken.status_code == 409, taken.text
    token = str(created.json()["manage_url"]).rsplit("/", 1)[1]
    assert http.post(f"/api/v1/bookings/{token}/reschedule", json={"start": second}).status_code == 200
    assert http.post(f"/api/v1/bookings/{token}/cancel", json={"reason": "no longer needed"}).status_code == 200
    return token
