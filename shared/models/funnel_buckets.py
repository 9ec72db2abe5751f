"""THE bucket of a session's step-to-step gap (shared.funnel.summary's histograms), as SQL text.

Here, below shared.funnel, because the models declare the expression indexes on it too.

One expression, used by the per-day summary, the histogram of the rows read directly, the reads of
one bucket's rows and the expression indexes on funnel_sessions (shared.models.funnel, migration
0008), so a row is always in the same bucket and PostgreSQL matches the indexes (it compares the
parsed expressions: the same text, the same constants). PostgreSQL only (date_part, ln).
"""

from __future__ import annotations

import math

BUCKETS_PER_DOUBLING = 64
# ln(1 + gap) times this is the bucket; written out in full so every use renders the same constant.
_BUCKET_FACTOR = repr(BUCKETS_PER_DOUBLING / math.log(2))

# The step pairs of the medians: (pair, earlier column, later column).
PAIRS: tuple[tuple[int, str, str], ...] = (
    (1, "step1_at", "step2_at"),
    (2, "step2_at", "step3_at"),
    (3, "step3_at", "step4_at"),
)


def in_order_sql(pair: int) -> str:
    """The rows that have a gap for this pair: both steps, the later one not before the earlier."""
    _, earlier, later = PAIRS[pair - 1]
    return f"{later} >= {earlier}"


def gap_sql(pair: int) -> str:
    """The gap in seconds (double precision), as shared.funnel.service's direct path computes it."""
    _, earlier, later = PAIRS[pair - 1]
    return f"date_part('epoch', {later} - {earlier})"


def bucket_sql(pair: int) -> str:
    """THE bucket of a row's gap: BUCKETS_PER_DOUBLING per doubling of 1 + the gap in seconds."""
    return f"CAST(floor(ln(1 + {gap_sql(pair)}) * CAST({_BUCKET_FACTOR} AS double precision)) AS integer)"


def index_name(pair: int) -> str:
    return f"ix_funnel_sessions_gap_bucket_{pair}"
