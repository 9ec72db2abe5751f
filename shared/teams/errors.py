from shared.agents.errors import TeamNotFound as TeamNotFound  # re-exported: the teams' 404
from shared.errors import InvalidInput


class InvalidTeam(InvalidInput):
    """A team field that cannot be stored; the message names the field and the rule."""


class UnknownMode(InvalidTeam):
    """A mode other than round_robin and collective."""


class EmptyTeam(InvalidTeam):
    """A team without members."""


class UnknownMembers(InvalidTeam):
    """Member ids that name no agent."""


class DuplicateMember(InvalidTeam):
    """The same agent listed twice."""


class InactiveMember(InvalidTeam):
    """A deactivated agent as a member (their link and sign-in are off; so is their team work)."""
