"""The `meetings` command: serve, worker, dashboard, migrate, demo, doctor, copy-data.

Every subcommand reads its configuration from the environment (shared.settings.Settings), so the same
variables drive the API, the worker and the dashboard however they are started.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import httpx

from shared.settings import DEV_ADMIN_TOKEN, Settings

API_FACTORY = "widget_api.app:app_factory"
DASHBOARD_APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from shared.observability.logs import uvicorn_log_config
    from shared.observability.multiproc import prepare_multiprocess_dir, remove_multiprocess_dir

    settings = Settings()
    # Several API processes: prometheus-client's multiprocess mode, so /metrics sums them all.
    metrics_dir, made = prepare_multiprocess_dir() if settings.metrics_enabled and args.workers > 1 else ("", False)
    try:
        uvicorn.run(
            API_FACTORY,
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=args.log_level,
            log_config=uvicorn_log_config(settings, level=args.log_level),
            proxy_headers=True,
            forwarded_allow_ips=args.forwarded_allow_ips,
        )
    finally:
        if made:
            remove_multiprocess_dir(metrics_dir)
    return 0


def _worker(args: argparse.Namespace) -> int:
    from meetings.jobs import job_handlers, worker_chores
    from shared.outbox.worker import run_worker

    settings = Settings()
    if args.metrics_port is not None:
        from meetings.worker_metrics import serve_worker_metrics

        serve_worker_metrics(settings, host=args.metrics_host, port=args.metrics_port)
    run_worker(settings, handlers=job_handlers(), chores=worker_chores(settings), once=args.once)
    return 0


def _dashboard_command(host: str, port: int) -> list[str]:
    from meetings.dashboard import dashboard_command

    return dashboard_command(Settings(), host=host, port=port)


def _dashboard_environment() -> dict[str, str]:
    from meetings.dashboard import dashboard_environment

    return dashboard_environment(Settings(), dict(os.environ))


def _dashboard_missing() -> bool:
    if DASHBOARD_APP.exists():
        return False
    print(f"meetings: the dashboard is not there yet ({DASHBOARD_APP} does not exist).", file=sys.stderr)
    return True


def _dashboard(args: argparse.Namespace) -> int:
    if _dashboard_missing():
        return 1
    command = _dashboard_command(args.host, args.port)
    os.execve(command[0], command, _dashboard_environment())  # Streamlit takes over, signals included


def _doctor(_args: argparse.Namespace) -> int:
    from meetings.doctor import run_doctor

    return run_doctor()


def _migrate(_args: argparse.Namespace) -> int:
    from shared.migrate import upgrade_to_head

    settings = Settings()
    upgrade_to_head(settings.database_url)
    print("meetings: the database schema is up to date.")
    return 0


def _seed(settings: Settings) -> str:
    """Migrate and seed once; print what there is to see; return the first demo agent's link."""
    from shared.db import build_engine, build_sessionmaker, session_scope
    from shared.demo import seed_demo
    from shared.migrate import upgrade_to_head
    from shared.models import utcnow

    upgrade_to_head(settings.database_url)
    engine = build_engine(settings)
    try:
        started = time.perf_counter()
        with session_scope(build_sessionmaker(engine)) as session:
            summary = seed_demo(session, now=utcnow(), settings=settings)
    finally:
        engine.dispose()
    if summary.created:
        print(
            f"Seeded demo data in {time.perf_counter() - started:.1f} s: {len(summary.agents)} agents, "
            f"{summary.sessions} widget sessions, {summary.bookings} bookings ({summary.cancelled} cancelled)."
        )
    else:
        print("Demo data is already there; nothing was added.")
    base = settings.base_url.rstrip("/")
    lines = [
        "",
        f"  Demo chat      {base}/demo/chat",
        f"  Hosted page    {settings.booking_url(summary.first_link)}   ({summary.agents[0][0]})",
        *(f"  Team link      {settings.booking_url(link)}   ({name})" for name, link in summary.teams),
        f"  Dashboard      {settings.dashboard_url}",
        f"  API docs       {base}/docs",
        "",
        f"  Manager login  {summary.manager_email} / {summary.password}",
        *(f"  Agent login    {email} / {summary.password}   ({name})" for name, email, _ in summary.agents),
    ]
    if settings.admin_token == DEV_ADMIN_TOKEN:
        lines.append(f"  Admin API      Authorization: Bearer {DEV_ADMIN_TOKEN}   (development token)")
    print("\n".join(lines) + "\n", flush=True)
    return summary.first_link


def _wait_healthy(base_url: str, processes: Sequence[subprocess.Popen[bytes]], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            return False
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    return False


def _stop_all(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _demo(args: argparse.Namespace) -> int:
    # The printed URLs and the links in emails follow --host/--port unless set explicitly.
    os.environ.setdefault("MEETINGS_BASE_URL", f"http://{args.host}:{args.port}")
    os.environ.setdefault("MEETINGS_DASHBOARD_URL", f"http://{args.host}:{args.dashboard_port}")
    settings = Settings()
    _seed(settings)
    if args.no_run:
        return 0

    stopping = False

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    commands = {
        "API": [sys.executable, "-m", "meetings.cli", "serve", "--host", args.host, "--port", str(args.port)],
        "worker": [sys.executable, "-m", "meetings.cli", "worker"],
    }
    if not _dashboard_missing():
        commands["dashboard"] = _dashboard_command(args.host, args.dashboard_port)
    environments = {"dashboard": _dashboard_environment()}
    processes = {name: subprocess.Popen(command, env=environments.get(name)) for name, command in commands.items()}
    try:
        if _wait_healthy(settings.base_url.rstrip("/"), list(processes.values())):
            print(f"meetings: running ({', '.join(processes)}). Press Ctrl-C to stop.", flush=True)
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"meetings: the {name} stopped (exit code {process.returncode}); stopping the rest.")
                    return process.returncode or 1
            time.sleep(0.3)
        print("\nmeetings: stopping…", flush=True)
        return 0
    finally:
        _stop_all(list(processes.values()))


def _configure_logging() -> None:
    """MEETINGS_LOG_FORMAT for this process (shared.observability.logs); Alembic's chatter stays out of the CLI."""
    from pydantic import ValidationError

    from shared.observability.logs import configure_logging

    try:
        settings = Settings()
    except ValidationError:
        # A configuration the command will refuse (or `doctor` will explain): log as production does.
        settings = Settings.model_construct(environment="production", log_format=None)
    configure_logging(settings, level=logging.INFO)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meetings",
        description="Meetings: booking widget API, outbox worker and dashboard. "
        "Configured through environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="API processes (default 1)")
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--forwarded-allow-ips", default="127.0.0.1", help="proxies trusted for X-Forwarded-* (default 127.0.0.1)"
    )
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser("worker", help="run the outbox worker (emails, calendar, webhooks)")
    worker.add_argument("--once", action="store_true", help="run the jobs that are due, then exit")
    worker.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port")
    worker.add_argument("--metrics-host", default="127.0.0.1", help="address of the metrics port (default 127.0.0.1)")
    worker.set_defaults(handler=_worker)

    dashboard = commands.add_parser(
        "dashboard",
        help="run the Streamlit dashboard",
        description="Run the Streamlit dashboard, fit for production: no toolbar or Deploy button, no usage "
        "statistics, XSRF protection on, a cookie secret derived from MEETINGS_SECRET_KEY. Behind a reverse "
        "proxy (the same one as the API), pass WebSocket upgrades for /_stcore/stream and set "
        "MEETINGS_DASHBOARD_URL to its public address (README: Running it in production).",
    )
    dashboard.add_argument("--host", default="127.0.0.1")
    dashboard.add_argument("--port", type=int, default=8501)
    dashboard.set_defaults(handler=_dashboard)

    doctor = commands.add_parser("doctor", help="check the configuration; one line per check, exit 1 on a problem")
    doctor.set_defaults(handler=_doctor)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date (Alembic)")
    migrate.set_defaults(handler=_migrate)

    demo = commands.add_parser("demo", help="migrate, seed demo data once, run API + worker + dashboard")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000, help="API port (default 8000)")
    demo.add_argument("--dashboard-port", type=int, default=8501)
    demo.add_argument("--no-run", action="store_true", help="seed and print the URLs, serve nothing")
    demo.set_defaults(handler=_demo)

    from meetings.copy_data import add_copy_data_command

    add_copy_data_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging()
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
