"""Teams (SPEC §15): one booking link for several agents. The service (create, rename, change mode,
set members, soft delete, rotate the link, team meeting types) and the team's view of availability
and of who takes a booking (shared.teams.availability, shared.teams.assignment)."""
