"""The languages the product speaks to people (SPEC §14): one list, and how a requested one is read.

A booking's `locale` comes from the widget (or `?locale=` on the hosted page) and is never an error:
a regional tag takes its language (`de-AT` → `de`), anything else falls back to English. An agent's
`locale` is a setting picked from the list, so an unknown one is refused there.
"""

from __future__ import annotations

from shared.errors import InvalidInput

DEFAULT_LOCALE = "en"
LOCALES: tuple[str, ...] = ("en", "pl", "de", "fr", "es")
# Each language's own name, for pickers.
LOCALE_NAMES: dict[str, str] = {
    "en": "English",
    "pl": "Polski",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
}


def resolve_locale(value: object) -> str:
    """The supported language a requested locale means; English for a missing or unknown one."""
    if not isinstance(value, str):
        return DEFAULT_LOCALE
    language = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return language if language in LOCALES else DEFAULT_LOCALE


def check_locale(value: object) -> str:
    """An agent's chosen language: one of LOCALES exactly; InvalidInput otherwise."""
    if not isinstance(value, str) or value not in LOCALES:
        raise InvalidInput(f"locale must be one of {', '.join(LOCALES)}, got {value!r}")
    return value
