"""Moving a whole database elsewhere: `meetings copy-data --to URL` (SPEC §16)."""
