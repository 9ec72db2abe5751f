"""`meetings worker --metrics-port N`: the worker's own counters for Prometheus, plus the outbox gauges.

The worker's counters (job attempts and failures by kind, Google calls, SMTP sends, webhook
deliveries) live in the worker process, so they are served from it. No token here: bind it to an
address only Prometheus reaches (the default is 127.0.0.1).
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

from shared.db import build_engine, build_sessionmaker
from shared.models import utcnow
from shared.observability.metrics import OutboxCollector, install_metric_hooks
from shared.observability.multiproc import MULTIPROC_ENV
from shared.settings import Settings


def serve_worker_metrics(settings: Settings, *, host: str, port: int) -> None:
    """Start the metrics HTTP server in a daemon thread (it lives as long as the worker process)."""
    install_metric_hooks()
    engine = build_engine(settings, pool_size=1, max_overflow=0)
    collector = OutboxCollector(build_sessionmaker(engine), utcnow)
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    registry.register(collector)
    start_http_server(port, addr=host, registry=registry)
