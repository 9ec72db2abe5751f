"""Read-only views for managers (listings the admin API and the dashboard both show)."""
