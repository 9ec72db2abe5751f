"""`meetings dashboard`: Streamlit run fit for production, in the product's one log format.

Options are given on Streamlit's command line (they win over any `.streamlit/config.toml` and do
not depend on the working directory); the cookie secret goes through the environment
(`STREAMLIT_SERVER_COOKIE_SECRET`) so it never shows in `ps`:

- `client.toolbarMode=minimal`: no "Deploy" button and no developer menu for signed-in users;
- `client.showErrorDetails=false` outside development: a failing page shows no traceback;
- `browser.gatherUsageStats=false`: Streamlit sends no usage statistics;
- `server.enableXsrfProtection=true`, `server.enableCORS=true`: forms and uploads need Streamlit's
  XSRF cookie, and other sites cannot drive the dashboard;
- `server.cookieSecret`: derived from MEETINGS_SECRET_KEY (HMAC), so every dashboard process behind
  one proxy signs cookies alike and restarts do not sign everyone out;
- the page title and icon are set by dashboard/app.py (`st.set_page_config`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sys
from pathlib import Path

from shared.settings import Settings

DASHBOARD_APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"


def cookie_secret(settings: Settings) -> str:
    """Streamlit's cookie secret, derived from MEETINGS_SECRET_KEY (never the key itself)."""
    return hmac.new(settings.secret_key.encode(), b"meetings-dashboard-cookie", hashlib.sha256).hexdigest()


def streamlit_options(settings: Settings, *, host: str, port: int) -> list[str]:
    show_errors = "true" if settings.environment == "development" else "false"
    return [
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--client.showErrorDetails",
        show_errors,
        "--server.enableXsrfProtection",
        "true",
        "--server.enableCORS",
        "true",
    ]


def dashboard_command(settings: Settings, *, host: str, port: int) -> list[str]:
    """The process to run: this module's `main` (our logging, then Streamlit's own command line)."""
    return [
        sys.executable,
        "-m",
        "meetings.dashboard",
        "run",
        str(DASHBOARD_APP),
        *streamlit_options(settings, host=host, port=port),
    ]


def dashboard_environment(settings: Settings, environ: dict[str, str]) -> dict[str, str]:
    return {**environ, COOKIE_SECRET_ENV: cookie_secret(settings)}


def _log_like_the_product(settings: Settings) -> None:
    """Streamlit gives each of its loggers a handler with its own text format, and sets it again
    when its configuration loads; this makes those handlers use ours."""
    import streamlit.logger as streamlit_logger

    from shared.observability.logs import configure_logging, formatter_for

    configure_logging(settings)
    formatter = formatter_for(settings)
    original = streamlit_logger.setup_formatter

    def setup_formatter(logger: logging.Logger) -> None:
        original(logger)
        for handler in logger.handlers:
            handler.setFormatter(formatter)

    streamlit_logger.setup_formatter = setup_formatter
    for logger in list(streamlit_logger._loggers.values()):
        setup_formatter(logger)


def _version() -> str:
    from importlib.metadata import version

    return version("streamlit")


def main() -> None:
    from streamlit.web import cli as streamlit_cli

    _log_like_the_product(Settings())
    logging.getLogger("meetings.dashboard").info("starting the dashboard (Streamlit %s)", _version())
    sys.argv = ["streamlit", *sys.argv[1:]]
    streamlit_cli.main()


if __name__ == "__main__":
    main()
