"""OAuth tokens at rest: Fernet-encrypted JSON, key derived from MEETINGS_SECRET_KEY.

The plaintext lives only in memory for the duration of a call to Google. Nothing here logs, and
`StoredTokens.__repr__` hides the secrets so an accidental log line or traceback cannot leak them.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from google.oauth2.credentials import Credentials

from shared.settings import Settings

# Domain separation: the same MEETINGS_SECRET_KEY may derive other keys for other purposes.
_KEY_INFO = b"meetings/google-calendar-tokens/v1"


class TokensUnreadable(Exception):
    """The stored tokens cannot be decrypted (MEETINGS_SECRET_KEY changed) or are malformed."""


def token_cipher(settings: Settings) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(settings.secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


@dataclass(frozen=True)
class StoredTokens:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    # Aware UTC; None when Google did not say (the token is then refreshed on its first 401).
    expiry: datetime | None = None

    def to_credentials(self, settings: Settings, scopes: list[str]) -> Credentials:
        return Credentials(  # type: ignore[no-untyped-call]  # google-auth ships no type hints
            token=self.access_token,
            refresh_token=self.refresh_token,
            token_uri=settings.google_token_uri,
            client_id=settings.google_client_id,
            client_secret=settings.google_client_secret,
            scopes=scopes or None,
            # google-auth compares expiry with a naive UTC "now".
            expiry=self.expiry.astimezone(UTC).replace(tzinfo=None) if self.expiry else None,
        )

    @classmethod
    def from_credentials(cls, credentials: Credentials) -> StoredTokens:
        expiry = credentials.expiry.replace(tzinfo=UTC) if credentials.expiry else None
        return cls(access_token=str(credentials.token), refresh_token=str(credentials.refresh_token), expiry=expiry)


def encrypt_tokens(settings: Settings, tokens: StoredTokens) -> str:
    document = {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expiry": tokens.expiry.isoformat() if tokens.expiry else None,
    }
    return token_cipher(settings).encrypt(json.dumps(document).encode()).decode()


def decrypt_tokens(settings: Settings, encrypted: str) -> StoredTokens:
    try:
        document = json.loads(token_cipher(settings).decrypt(encrypted.encode()))
        expiry = document.get("expiry")
        return StoredTokens(
            access_token=document["access_token"],
            refresh_token=document["refresh_token"],
            expiry=datetime.fromisoformat(expiry) if expiry else None,
        )
    except (InvalidToken, ValueError, KeyError, TypeError) as error:
        raise TokensUnreadable("stored Google tokens cannot be decrypted (was MEETINGS_SECRET_KEY changed?)") from error


def encrypt_secret(settings: Settings, value: str) -> str:
    """Encrypt a short secret (the PKCE code verifier of a pending consent)."""
    return token_cipher(settings).encrypt(value.encode()).decode()


def decrypt_secret(settings: Settings, value: str) -> str:
    try:
        return token_cipher(settings).decrypt(value.encode()).decode()
    except InvalidToken as error:
        raise TokensUnreadable("stored OAuth secret cannot be decrypted") from error
