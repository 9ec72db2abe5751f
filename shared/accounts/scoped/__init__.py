"""The domain services as one dashboard user may use them.

Every function takes the session first, then the `actor` (the logged-in Agent) and keyword-only
arguments; it checks `shared.accounts.permissions` first and only then calls the domain service.
The dashboard pages call these, never the domain services or the database directly, so an agent
cannot reach another agent's data even with a hand-crafted request.
"""
