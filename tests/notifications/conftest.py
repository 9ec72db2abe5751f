"""Real servers for the notification tests: an aiosmtpd SMTP server (plain, AUTH, STARTTLS, TLS)
and an http.server webhook receiver, both on 127.0.0.1 and started by the tests; plus helpers
that book through the real API and drain the outbox with the real worker.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fastapi.testclient import TestClient

from meetings.jobs import job_handlers
from shared.models import utcnow
from shared.outbox.worker import run_worker
from shared.settings import Settings
from widget_api.app import create_app

if TYPE_CHECKING:
    from tests.conftest import Clock

SMTP_USER = "mailer"
SMTP_PASSWORD = "p@ss:w/rd"  # needs percent-encoding in SMTP_URL
SMTP_PASSWORD_IN_URL = "p%40ss%3Aw%2Frd"


def with_settings(settings: Settings, **changes: Any) -> Settings:
    values = settings.model_dump()
    values.update(changes)
    return Settings(**values)


# --- TLS material -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost signed by it."""
    folder = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Meetings test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


@pytest.fixture
def trust_test_ca(tls_files: TlsFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point OpenSSL's default trust store at the test CA, as an operator with a private CA would."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_files.ca_file))


# --- SMTP -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: MimeMessage

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type and part.get_content_disposition() != "attachment":
                return str(part.get_content())
        raise AssertionError(f"no {content_type} part")

    def attachment(self, filename: str) -> bytes:
        for part in self.message.walk():
            if part.get_filename() == filename:
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                return payload
        raise AssertionError(f"no attachment {filename}")


@dataclass
class MailRecorder:
    """aiosmtpd handler: records each accepted message; `replies` scripts DATA answers (e.g. 451)."""

    received: list[ReceivedMail] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        if self.replies:
            reply = self.replies.pop(0)
            if not reply.startswith("250"):
                return reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, MimeMessage)
        self.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[ReceivedMail]:
        return [mail for mail in self.received if address in mail.rcpt_tos]


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    recorder: MailRecorder
    url: str
    controller: Controller


StartSmtp = Callable[..., SmtpServer]


@pytest.fixture
def start_smtp(tls_files: TlsFiles) -> Iterator[StartSmtp]:
    """Start aiosmtpd servers: mode plain | auth | starttls | ssl; stopped after the test."""
    controllers: list[Controller] = []

    def start(mode: str = "plain", port: int | None = None, recorder: MailRecorder | None = None) -> SmtpServer:
        recorder = recorder or MailRecorder()
        port = port or free_port()
        kwargs: dict[str, Any] = {}
        credentials = f"{SMTP_USER}:{SMTP_PASSWORD_IN_URL}@"
        if mode == "plain":
            url = f"smtp://127.0.0.1:{port}"
        elif mode == "auth":
            kwargs = {"authenticator": _authenticator, "auth_required": True, "auth_require_tls": False}
            url = f"smtp://{credentials}127.0.0.1:{port}"
        elif mode == "starttls":
            kwargs = {
                "tls_context": tls_files.server_context(),
                "require_starttls": True,
                "authenticator": _authenticator,
                "auth_required": True,
            }
            url = f"smtp://{credentials}127.0.0.1:{port}?starttls=1"
        elif mode == "ssl":
            kwargs = {
                "ssl_context": tls_files.server_context(),
                "authenticator": _authenticator,
                "auth_required": True,
                # aiosmtpd only counts STARTTLS as TLS; this connection is TLS from the first byte.
                "auth_require_tls": False,
            }
            url = f"smtps://{credentials}127.0.0.1:{port}"
        else:
            raise ValueError(mode)
        controller = Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        controllers.append(controller)
        return SmtpServer(recorder=recorder, url=url, controller=controller)

    yield start
    for controller in controllers:
        controller.stop()


# --- webhook receiver -------------------------------------------------------------------------


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    url: str
    received: list[ReceivedRequest]
    statuses: list[int]  # scripted answers, then 200


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    received: list[ReceivedRequest] = []
    statuses: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server hook
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            received.append(ReceivedRequest(self.path, {k: v for k, v in self.headers.items()}, body))
            status = statuses.pop(0) if statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield WebhookReceiver(f"http://127.0.0.1:{server.server_address[1]}/hooks", received, statuses)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- app, booking and worker helpers ----------------------------------------------------------


@pytest.fixture
def admin_client(settings: Settings, clock: Clock) -> Iterator[TestClient]:
    """The app (with the webhook admin router) on settings that allow private webhook targets."""
    app = create_app(with_settings(settings, webhook_allow_private=True), clock=clock)
    with TestClient(app) as test_client:
        yield test_client


def booking_form(meeting_type_id: int, start: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "meeting_type_id": meeting_type_id,
        "start": start,
        "timezone": "Europe/Warsaw",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "Analytical Engines",
        "email": "ada@example.com",
        "description": "Pricing question",
        "visitor_id": "v-1",
        "session_id": "s-1",
    }
    body.update(overrides)
    return body


def book(client: TestClient, link: str, meeting_type_id: int, start: str, **overrides: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/links/{link}/bookings", json=booking_form(meeting_type_id, start, **overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def manage_token(created: dict[str, Any]) -> str:
    return str(created["manage_url"]).rsplit("/", 1)[1]


def drain(settings: Settings, *, later: dt.timedelta = dt.timedelta(0)) -> int:
    """Run the real worker until no job is due, `later` after the real now (to reach retries)."""
    return run_worker(settings, handlers=job_handlers(), once=True, clock=lambda: utcnow() + later)
