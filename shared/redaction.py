"""Secrets out of text that is kept or printed: one set of patterns, two policies.

- `redact_error` cleans an error before the outbox stores and shows it (`last_error`): the
  deployment's own secrets, passwords in URLs, bearer tokens, `token=…`-style assignments and
  Google access tokens become `***`.
- `scrub_log_text` cleans every log line: Authorization values, bearer/basic credentials and
  token-bearing paths (manage tokens, booking links) become `[redacted]`, and e-mail addresses are
  masked (`a***@example.com`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlparse

from shared.settings import Settings

# `scheme://user:password@host`: the password.
CREDENTIALS_IN_URL = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@")
# `Bearer <token>` / `Basic <credentials>`: the scheme (group 1) and its credential.
AUTH_SCHEME_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
# `Authorization: <value>` in headers, dicts or JSON: the prefix (1), the scheme if any (2), the value.
AUTHORIZATION_VALUE = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(?:(bearer|basic|token)\s+)?[^'\",}\s]+")
# `access_token=…`, `"password": "…"` and the like: the name and separator (1, 2), the value.
SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b(access_token|refresh_token|id_token|client_secret|password|passwd|api_key|apikey|secret|token)"
    r"(['\"]?\s*[:=]\s*['\"]?)[^\s'\"&,;}]+"
)
GOOGLE_ACCESS_TOKEN = re.compile(r"\bya29\.[0-9A-Za-z_-]+")
# Paths whose last part is a credential (manage tokens, booking links): the path before it (1).
TOKEN_PATH = re.compile(r"(/(?:api/v1/bookings|api/v1/links|manage|b)/)[A-Za-z0-9_-]{8,}")
EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")

# Shorter values would mask ordinary words.
MIN_KNOWN_SECRET_LENGTH = 4


def known_secrets(settings: Settings) -> list[str]:
    """The deployment's own secrets as they could appear in an error: keys, tokens, URL passwords."""
    values = [settings.secret_key, settings.admin_token, settings.google_client_secret or ""]
    for url in (settings.smtp_url or "", settings.database_url):
        password = urlparse(url).password
        if password:
            values.append(password)
    return [value for value in values if len(value) >= MIN_KNOWN_SECRET_LENGTH]


def _bearer_only(match: re.Match[str]) -> str:
    # Stored errors hide bearer tokens; a Basic credential there has never been rewritten.
    return "Bearer ***" if match.group(1).lower() == "bearer" else match.group(0)


def redact_error(text: str, *, secrets: Iterable[str] = ()) -> str:
    """`text` with `secrets` (see `known_secrets`) and every credential-looking value as `***`."""
    for secret in secrets:
        text = text.replace(secret, "***")
    text = CREDENTIALS_IN_URL.sub(r"\1***@", text)
    text = AUTH_SCHEME_CREDENTIAL.sub(_bearer_only, text)
    text = SECRET_ASSIGNMENT.sub(r"\1\2***", text)
    return GOOGLE_ACCESS_TOKEN.sub("ya29.***", text)


def mask_email(address: str) -> str:
    """`ada@example.com` -> `a***@example.com`: enough to tell people apart, not to write to them."""
    return EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", address)


def scrub_log_text(text: str) -> str:
    """Mask e-mails and remove bearer tokens, Authorization values and token-bearing paths."""
    text = AUTHORIZATION_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2) + ' ' if m.group(2) else ''}[redacted]", text)
    text = AUTH_SCHEME_CREDENTIAL.sub(lambda m: f"{m.group(1)} [redacted]", text)
    text = TOKEN_PATH.sub(lambda m: f"{m.group(1)}[redacted]", text)
    return mask_email(text)
