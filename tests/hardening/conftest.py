"""Fixtures for the hardening tests: apps with small, explicit rate limits and a booking body."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.settings import Settings
from tests.conftest import Clock
from widget_api.app import create_app

LIMITS = {
    "rate_limit_enabled": True,
    "rate_limit_bookings_per_minute": 3,
    "rate_limit_events_per_minute": 4,
    "rate_limit_reads_per_minute": 5,
}


@pytest.fixture
def limited_settings(settings: Settings) -> Settings:
    return settings.model_copy(update=LIMITS)


ClientFactory = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture
def make_client(clock: Clock) -> ClientFactory:
    """`with make_client(settings, **overrides) as client:` — a fresh app (its own process, in effect)."""

    @contextmanager
    def build(settings: Settings, **overrides: Any) -> Iterator[TestClient]:
        app = create_app(settings.model_copy(update=overrides), clock=clock)
        with TestClient(app) as client:
            yield client

    return build


def booking_body(meeting_type_id: int, start: str, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "meeting_type_id": meeting_type_id,
        "start": start,
        "timezone": "Europe/Warsaw",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "Analytical Engines",
        "email": "ada.lovelace@example.com",
        "description": "Pricing question",
        "visitor_id": "visitor-1",
        "session_id": "session-1",
    }
    body.update(overrides)
    return body
