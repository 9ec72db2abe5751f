"""Schemathesis against the app's own OpenAPI schema: no 5xx, every documented response as documented.

Every operation of /openapi.json is fuzzed in-process (ASGI) with a bounded, derandomised number of
examples, on a copy of one seeded SQLite database per operation (so a rotated link or a deleted
meeting type in one operation does not starve the next). Half of the generated cases use the seeded
agent's real link, manage token and ids as path parameters, so they reach the real code behind the
404s; the admin operations are called with the admin token. Rate limits are off.

Run alone: .venv/bin/python -m pytest -q tests/hardening/test_fuzz_openapi.py -s  (prints the count)
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from shared.db import build_engine, build_sessionmaker, session_scope
from shared.models import Booking
from shared.settings import Settings
from tests.conftest import ADMIN_TOKEN, DEFAULT_NOW, Clock
from tests.factories import make_agent
from widget_api.app import create_app

MAX_EXAMPLES = 25
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class Seeded:
    path: Path
    settings: Settings
    path_values: dict[str, Any]


def fuzz_settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        base_url="http://testserver",
        admin_token=ADMIN_TOKEN,
        secret_key="test-secret-key-0123456789abcdef",
        rate_limit_enabled=False,
        # Configured (loopback, never called): the connect endpoint answers its 302, not 503.
        google_client_id="fuzz-client",
        google_client_secret="fuzz-secret",
        google_redirect_uri="http://127.0.0.1:9/oauth/google/callback",
        google_auth_uri="http://127.0.0.1:9/auth",
        google_token_uri="http://127.0.0.1:9/token",
        google_api_endpoint="http://127.0.0.1:9/calendar/v3/",
    )


@pytest.fixture(scope="module")
def seeded(migrated_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """One agent with its meeting types, one booking (manage token) and one webhook endpoint."""
    path = tmp_path_factory.mktemp("fuzz") / "seeded.db"
    shutil.copyfile(migrated_template, path)
    settings = fuzz_settings(f"sqlite:///{path}")
    app = create_app(settings, clock=Clock(DEFAULT_NOW))
    with TestClient(app) as client:
        engine = build_engine(settings)
        with session_scope(build_sessionmaker(engine)) as session:
            agent = make_agent(session, name="Fuzz Agent", email="fuzz.agent@example.com")
            agent_id, link, type_id = agent.id, agent.link, agent.meeting_types[0].id
        engine.dispose()
        booked = client.post(
            f"/api/v1/links/{link}/bookings",
            json={
                "meeting_type_id": type_id,
                "start": "2026-06-02T09:00:00+02:00",
                "timezone": "Europe/Warsaw",
                "first_name": "Ada",
                "last_name": "L",
                "company_name": "E",
                "email": "ada@example.com",
                "description": "d",
            },
        )
        assert booked.status_code == 201, booked.text
        webhook = client.post(
            "/api/v1/admin/webhooks", json={"url": "https://hooks.example.com/x"}, headers=ADMIN_HEADERS
        )
        assert webhook.status_code == 201, webhook.text
    engine = build_engine(settings)
    with session_scope(build_sessionmaker(engine)) as session:
        booking = session.get(Booking, booked.json()["id"])
        assert booking is not None
        manage_token = booking.manage_token
    engine.dispose()
    return Seeded(
        path=path,
        settings=settings,
        path_values={
            "link": link,
            "manage_token": manage_token,
            "agent_id": agent_id,
            "meeting_type_id": type_id,
            "endpoint_id": webhook.json()["id"],
        },
    )


@pytest.fixture(scope="module")
def schema(seeded: Seeded) -> schemathesis.BaseSchema:
    app = create_app(seeded.settings, clock=Clock(DEFAULT_NOW))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def operations(schema: schemathesis.BaseSchema) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_of_the_schema_is_fuzzed(
    schema: schemathesis.BaseSchema, seeded: Seeded, tmp_path: Path
) -> None:
    """One test for all operations, so the seeding runs once and the request count is one figure."""
    fuzzed = 0
    failures: list[str] = []
    all_operations = operations(schema)
    for index, operation in enumerate(all_operations):
        path = tmp_path / f"operation{index}.db"
        shutil.copyfile(seeded.path, path)
        app = create_app(
            seeded.settings.model_copy(update={"database_url": f"sqlite:///{path}"}), clock=Clock(DEFAULT_NOW)
        )
        try:
            fuzzed += fuzz_operation(operation, app, seeded)
        except (Exception, BaseExceptionGroup) as failure:  # collected: one run names every failing operation
            failures.append(f"{operation.label}: {failure}"[:3000])
    statuses = sorted(STATUSES.items())
    print(f"\nschemathesis: {fuzzed} requests over {len(all_operations)} operations; statuses {statuses}")
    assert failures == []
    assert len(all_operations) >= 40


STATUSES: Counter[int] = Counter()


def fuzz_operation(operation: Any, app: FastAPI, seeded: Seeded) -> int:
    names = {p.name for p in operation.path_parameters}
    headers = ADMIN_HEADERS if operation.path.startswith("/api/v1/admin") else None
    free = operation.as_strategy(headers=headers)
    real = {name: seeded.path_values[name] for name in names if name in seeded.path_values}
    strategy = st.one_of(free, operation.as_strategy(path_parameters=real, headers=headers)) if real else free
    count = 0

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @given(case=strategy)
    def run(case: schemathesis.Case) -> None:
        nonlocal count
        count += 1
        response = case.call(app=app)
        STATUSES[response.status_code] += 1
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    run()
    return count
