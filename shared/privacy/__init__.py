"""A contact's personal data: export it, erase it on request or after the retention period (SPEC §16)."""
