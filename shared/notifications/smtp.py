"""Sending through SMTP_URL with smtplib: plain, STARTTLS or implicit TLS, with optional AUTH.

`smtp://user:pass@host:587?starttls=1` upgrades with STARTTLS (refusing to continue in clear text
when the server cannot), `smtps://user:pass@host:465` speaks TLS from the first byte, `smtp://host:25`
is plain. User and password are percent-decoded. Certificates are verified against the system
trust store (`SSL_CERT_FILE` / `SSL_CERT_DIR` point OpenSSL at a private CA).

Failures are sorted for the outbox: the server's 4xx replies and network trouble are transient
(RetryLater); 5xx replies, refused credentials and rejected certificates are permanent
(PermanentFailure) and shown in the dashboard's outbox view to be retried by hand.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, parseaddr
from typing import Literal, NoReturn
from urllib.parse import parse_qs, unquote, urlsplit

from icalendar import Calendar

from shared.models import EmailMessage
from shared.notifications.errors import InvalidSmtpUrl
from shared.observability.metrics import SMTP_SENDS
from shared.outbox.contract import PermanentFailure, RetryLater

Security = Literal["plain", "starttls", "ssl"]
TRUE_WORDS = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 30.0


def parse_smtp_url(url: str) -> SmtpConfig:
    """SmtpConfig from `smtp://[user[:pass]@]host[:port][?starttls=1&timeout=30]` or `smtps://…`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise InvalidSmtpUrl(f"SMTP_URL must start with smtp:// or smtps://, got {parts.scheme or 'nothing'!r}")
    if not parts.hostname:
        raise InvalidSmtpUrl("SMTP_URL has no host")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    starttls = query.get("starttls", "").lower() in TRUE_WORDS
    security: Security = "ssl" if parts.scheme == "smtps" else ("starttls" if starttls else "plain")
    try:
        port = parts.port or {"ssl": 465, "starttls": 587, "plain": 25}[security]
        timeout = float(query.get("timeout", "30"))
    except ValueError as error:
        raise InvalidSmtpUrl(f"SMTP_URL has an invalid port or timeout: {error}") from None
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        timeout_seconds=timeout,
    )


def build_mime(message: EmailMessage, *, mail_from: str, to_name: str = "", reply_to: str | None = None) -> MimeMessage:
    """multipart/mixed: [alternative: text, HTML, text/calendar;method=…] + the invite.ics attachment.

    The text/calendar alternative is what Gmail/Outlook turn into an invitation card; the attachment
    is for every other client.
    """
    mime = MimeMessage()
    mime["Subject"] = message.subject
    mime["From"] = mail_from
    mime["To"] = Address(display_name=to_name, addr_spec=message.to_address) if to_name else message.to_address
    if reply_to:
        mime["Reply-To"] = reply_to
    mime["Date"] = format_datetime(message.created_at)
    if message.message_id:
        mime["Message-ID"] = message.message_id
    mime["Auto-Submitted"] = "auto-generated"
    mime.set_content(message.text_body)
    if message.html_body:
        mime.add_alternative(message.html_body, subtype="html")
    if message.ics:
        method = str(Calendar.from_ical(message.ics).get("method", "REQUEST"))
        mime.add_alternative(message.ics, subtype="calendar", params={"method": method})
        mime.add_attachment(message.ics.encode(), maintype="application", subtype="ics", filename="invite.ics")
    return mime


def mail_domain(mail_from: str) -> str:
    """The domain for Message-IDs: the sender's, so they look like the sender's own."""
    _, address = parseaddr(mail_from)
    return address.rpartition("@")[2] or "meetings.local"


def send_mime(config: SmtpConfig, mime: MimeMessage) -> None:
    """Hand one message to the SMTP server; returns once the server accepted it (250 after DATA).

    After acceptance nothing here may raise: a failing QUIT must not make the caller send again.
    """
    client = _connect(config)
    try:
        _prepare(client, config)
        try:
            client.send_message(mime)
            SMTP_SENDS.labels(result="sent").inc()
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            reply = "; ".join(f"{rcpt}: {code} {msg!r}" for rcpt, (code, msg) in error.recipients.items())
            if all(400 <= code < 500 for code in codes):
                raise RetryLater(f"recipient deferred: {reply}") from error
            raise PermanentFailure(f"recipient refused: {reply}") from error
        except smtplib.SMTPResponseException as error:
            _raise_for_reply(error)
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            raise RetryLater(f"SMTP connection lost while sending: {error}") from error
    except Exception:
        SMTP_SENDS.labels(result="error").inc()
        raise
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    try:
        if config.security == "ssl":
            return smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout_seconds, context=ssl.create_default_context()
            )
        return smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
    except ssl.SSLCertVerificationError as error:
        raise PermanentFailure(f"SMTP server certificate rejected: {error.verify_message}") from error
    except smtplib.SMTPResponseException as error:  # e.g. 421 / 554 greeting
        _raise_for_reply(error)
    except (smtplib.SMTPException, OSError) as error:
        raise RetryLater(f"cannot connect to SMTP server {config.host}:{config.port}: {error}") from error


def _prepare(client: smtplib.SMTP, config: SmtpConfig) -> None:
    try:
        client.ehlo()
        if config.security == "starttls":
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if config.username:
            client.login(config.username, config.password or "")
    except smtplib.SMTPNotSupportedError as error:
        raise PermanentFailure(f"SMTP server does not support what SMTP_URL asks for: {error}") from error
    except ssl.SSLCertVerificationError as error:
        raise PermanentFailure(f"SMTP server certificate rejected: {error.verify_message}") from error
    except smtplib.SMTPResponseException as error:
        _raise_for_reply(error)
    except (smtplib.SMTPServerDisconnected, OSError) as error:
        raise RetryLater(f"SMTP connection lost: {error}") from error
    except smtplib.SMTPException as error:  # e.g. no AUTH mechanism in common
        raise PermanentFailure(f"SMTP session refused: {error}") from error


def _raise_for_reply(error: smtplib.SMTPResponseException) -> NoReturn:
    reply = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
    text = f"SMTP server replied {error.smtp_code} {reply}".strip()
    if 400 <= error.smtp_code < 500:
        raise RetryLater(text) from error
    raise PermanentFailure(text) from error
