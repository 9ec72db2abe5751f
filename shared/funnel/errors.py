from shared.errors import InvalidInput


class InvalidFunnelFilter(InvalidInput):
    """A funnel filter that cannot be applied (naive or reversed dates, unknown granularity)."""
