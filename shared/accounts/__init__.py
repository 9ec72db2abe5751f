"""Dashboard accounts: logins and sessions, and who may see or change what (SPEC §11)."""
