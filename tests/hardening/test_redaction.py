"""shared.redaction: the exact rewrites of stored job errors and of log lines (one set of patterns)."""

from __future__ import annotations

from shared.redaction import redact_error, scrub_log_text


def test_stored_errors_keep_their_shape_and_lose_their_credentials() -> None:
    text = (
        "POST https://user:pa55@api.example.com failed; Authorization: bearer abc.DEF-1; "
        "token=ya29.A0b_c access_token: 'tok' with k3y-of-the-deployment"
    )
    assert redact_error(text, secrets=["k3y-of-the-deployment"]) == (
        "POST https://user:***@api.example.com failed; Authorization: Bearer ***; "
        "token=*** access_token: '***' with ***"
    )
    assert redact_error("Google said ya29.A0b_c-d is expired") == "Google said ya29.*** is expired"


def test_log_lines_and_stored_errors_differ_only_in_policy() -> None:
    line = "Authorization: Bearer abc.def-123 from ada@example.com"
    assert scrub_log_text(line) == "Authorization: Bearer [redacted] from a***@example.com"
    assert redact_error(line) == "Authorization: Bearer *** from ada@example.com"
