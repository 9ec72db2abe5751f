"""Personal API tokens of agents: the admin API in agent scope (see docs/security-phase2.md)."""
