"""Widgets and plumbing shared by the dashboard pages (database sessions, sign-in state, charts, forms)."""
