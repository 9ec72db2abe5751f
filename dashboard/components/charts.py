"""Plotly figures: the funnel, its trend, and an agent's week."""

from __future__ import annotations

import html
import math
from datetime import date

import plotly.graph_objects as go

from shared.accounts.scoped.calendars import (
    KIND_AVAILABLE,
    KIND_BOOKING,
    KIND_BUFFER,
    KIND_BUSY,
    WeekBlock,
    WeekView,
)
from shared.funnel.schemas import FunnelResult

STEP_LABELS = {
    "calendar_1st_step": "1 · Meeting type chosen",
    "calendar_2nd_step": "2 · Date chosen",
    "calendar_3rd_step": "3 · Hour chosen",
    "calendar_4th_step_submit": "4 · Form submitted",
}
STEP_COLOURS = ["#2563eb", "#0891b2", "#16a34a", "#f59e0b"]


def step_label(name: str) -> str:
    return STEP_LABELS.get(name, name)


def funnel_figure(result: FunnelResult) -> go.Figure:
    figure = go.Figure(
        go.Funnel(
            y=[step_label(step.name) for step in result.steps],
            x=[step.sessions for step in result.steps],
            textinfo="value+percent previous+percent initial",
            marker={"color": STEP_COLOURS[: len(result.steps)]},
            connector={"line": {"color": "#cbd5e1"}},
            hovertemplate="%{y}<br>%{x} sessions<br>%{percentPrevious:.1%} of the previous step<extra></extra>",
        )
    )
    figure.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=340)
    return figure


def trend_figure(result: FunnelResult) -> go.Figure:
    figure = go.Figure()
    periods = [point.period for point in result.trend]
    for index, step in enumerate(result.steps):
        figure.add_trace(
            go.Scatter(
                x=periods,
                y=[point.sessions.get(step.name, 0) for point in result.trend],
                mode="lines+markers",
                name=step_label(step.name),
                line={"color": STEP_COLOURS[index % len(STEP_COLOURS)]},
            )
        )
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=320,
        legend={"orientation": "h", "y": -0.2},
        yaxis_title="sessions",
        xaxis_title="week starting (UTC)" if result.filters.granularity == "week" else "day (UTC)",
        hovermode="x unified",
    )
    return figure


def _hour_text(hour: float) -> str:
    minutes = round(hour * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _bars(blocks: list[WeekBlock], labels: dict[date, str], *, name: str, width: float, colour: str) -> go.Bar:
    return go.Bar(
        orientation="h",
        name=name,
        y=[labels[block.day] for block in blocks],
        base=[block.start_hour for block in blocks],
        x=[block.end_hour - block.start_hour for block in blocks],
        width=width,
        marker={"color": colour, "line": {"width": 0}},
        # Plotly reads a little HTML in text; names are people's input, so they go in escaped.
        text=[html.escape(block.label) if block.kind == KIND_BOOKING else "" for block in blocks],
        textposition="inside",
        insidetextanchor="start",
        customdata=[
            [html.escape(block.label), _hour_text(block.start_hour), _hour_text(block.end_hour)] for block in blocks
        ],
        hovertemplate="%{customdata[1]}–%{customdata[2]}<br>%{customdata[0]}<extra></extra>",
    )


def _lighter(colour: str | None, alpha: float = 0.3) -> str:
    """'#2563eb' → 'rgba(37,99,235,0.3)': the meeting type's colour, see-through."""
    value = (colour or "#2563eb").lstrip("#")
    if len(value) != 6:
        value = "2563eb"
    red, green, blue = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red},{green},{blue},{alpha})"


def _buffer_bars(blocks: list[WeekBlock], labels: dict[date, str]) -> go.Bar:
    """The buffers around bookings: time no slot is offered in, in a lighter shade of the booking's colour."""
    bars = _bars(blocks, labels, name="Buffers around bookings", width=0.6, colour="rgba(37,99,235,0.3)")
    bars.marker.color = [_lighter(block.colour) for block in blocks]
    return bars


def week_figure(week: WeekView) -> go.Figure:
    """Days down, hours across: offered hours in light green, calendar busy times grey, bookings on top
    in their meeting type's colour, with the buffers they occupy around them in a lighter shade of it."""
    labels = {day: day.strftime("%a %d %b") for day in week.days}
    hours = [h for block in week.blocks for h in (block.start_hour, block.end_hour)]
    low = max(0, math.floor(min(hours, default=8)) - 1)
    high = min(24, math.ceil(max(hours, default=18)) + 1)
    figure = go.Figure()
    # An invisible point per day keeps days without any block on the axis.
    figure.add_trace(
        go.Scatter(
            x=[low] * len(week.days),
            y=list(labels.values()),
            mode="markers",
            marker={"opacity": 0},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    available = [block for block in week.blocks if block.kind == KIND_AVAILABLE]
    figure.add_trace(_bars(available, labels, name="Available hours", width=0.86, colour="rgba(34,197,94,0.22)"))
    busy = [block for block in week.blocks if block.kind == KIND_BUSY]
    if busy:
        grey = "rgba(100,116,139,0.75)"
        figure.add_trace(_bars(busy, labels, name="Busy in Google Calendar", width=0.6, colour=grey))
    buffers = [block for block in week.blocks if block.kind == KIND_BUFFER]
    if buffers:
        figure.add_trace(_buffer_bars(buffers, labels))
    bookings = [block for block in week.blocks if block.kind == KIND_BOOKING]
    for category in sorted({block.category for block in bookings}):
        group = [block for block in bookings if block.category == category]
        figure.add_trace(
            _bars(group, labels, name=html.escape(category), width=0.6, colour=group[0].colour or "#2563eb")
        )
    figure.update_layout(
        barmode="overlay",
        height=80 + 52 * len(week.days),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "y": -0.15},
        xaxis={
            "range": [low, high],
            "tickmode": "array",
            "tickvals": list(range(low, high + 1)),
            "ticktext": [f"{h:02d}:00" for h in range(low, high + 1)],
            "title": f"time of day ({week.timezone})",
            "gridcolor": "#e2e8f0",
        },
        yaxis={
            "categoryorder": "array",
            "categoryarray": [labels[day] for day in week.days],
            "autorange": "reversed",
        },
        uniformtext={"minsize": 9, "mode": "hide"},
    )
    return figure
