"""The four-step booking funnel: sessions, conversion and drop-off, trend, median time between steps.

The numbers are shared.funnel.service.funnel's, the same the admin API returns for the same filters.
Dates are whole UTC days, as in the API and the CSV.
"""

from datetime import UTC, date, datetime, time, timedelta

import streamlit as st

from dashboard.components import charts, runtime
from dashboard.components.text import duration
from shared.accounts.scoped import agents as scoped_agents
from shared.accounts.scoped import funnel as scoped_funnel
from shared.accounts.scoped import teams as scoped_teams
from shared.errors import MeetingsError
from shared.funnel import summary as funnel_summary
from shared.funnel.service import funnel_csv

DEFAULT_DAYS = 28

user = runtime.user()
st.title("Booking funnel")
runtime.show_flash()

today = datetime.now(UTC).date()
with runtime.db() as session:
    agents = scoped_agents.visible_agents(session, actor=user)
    meeting_types = {
        agent.id: [(m.id, m.name) for m in scoped_agents.list_meeting_types(session, actor=user, agent_id=agent.id)]
        for agent in agents
    }
    # Teams are a manager's (SPEC §15): an agent's funnel has no team filter.
    teams = scoped_teams.list_teams(session, actor=user) if user.is_manager else []
    team_names = {team.id: team.name for team in teams}
    team_types = {
        team.id: [(m.id, m.name) for m in scoped_teams.list_meeting_types(session, actor=user, team_id=team.id)]
        for team in teams
    }
agent_names = {agent.id: agent.name for agent in agents}

columns = st.columns([2, 2, 2, 2, 1] if team_names else [2, 2, 2, 1])
picked_dates = columns[0].date_input(
    "Dates (UTC)",
    value=(today - timedelta(days=DEFAULT_DAYS - 1), today),
    max_value=today + timedelta(days=366),
    key="funnel_dates",
)
if user.is_manager:
    agent_options: list[int | None] = [None, *agent_names]
    agent_id = columns[1].selectbox(
        "Agent", agent_options, format_func=lambda i: "All agents" if i is None else agent_names[i], key="funnel_agent"
    )
else:
    agent_id = user.id
    columns[1].text_input("Agent", value=user.name, disabled=True, key="funnel_agent_self")
team_id: int | None = None
if team_names:
    team_id = columns[2].selectbox(
        "Team",
        [None, *team_names],
        format_func=lambda i: "All sessions" if i is None else f"{team_names[i]} (team link)",
        key="funnel_team",
        help="Sessions that began on the team's booking link, whichever member took the call.",
    )
type_choices: list[tuple[int, str]]
if team_id is not None:
    type_choices = team_types.get(team_id, [])
elif agent_id is not None:
    type_choices = meeting_types.get(agent_id, [])
else:
    type_choices = [
        (type_id, f"{agent_names[a]} · {name}") for a, types in meeting_types.items() for type_id, name in types
    ] + [(type_id, f"{team_names[t]} · {name}") for t, types in team_types.items() for type_id, name in types]
type_names = dict(type_choices)
meeting_type_id = columns[-2].selectbox(
    "Meeting type",
    [None, *type_names],
    format_func=lambda i: "All meeting types" if i is None else type_names[i],
    key=f"funnel_type_{agent_id}" if team_id is None else f"funnel_team_type_{team_id}",
)
granularity = columns[-1].radio("Trend per", ["day", "week"], horizontal=True, key="funnel_granularity")

if not isinstance(picked_dates, tuple) or len(picked_dates) != 2:
    st.info("Pick the last day of the range too.")
    st.stop()
first_day, last_day = picked_dates
assert isinstance(first_day, date)
assert isinstance(last_day, date)
start = datetime.combine(first_day, time(0), tzinfo=UTC)
end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=UTC)


def refresh_summary() -> None:
    """The funnel's per-day summary of settled days, in a unit of work of its own (shared.funnel.summary)."""
    with runtime.db() as summary_session:
        funnel_summary.refresh_summary(summary_session, now=datetime.now(UTC))


try:
    with runtime.db() as session:
        result = scoped_funnel.funnel(
            session,
            actor=user,
            start=start,
            end=end,
            agent_id=agent_id,
            meeting_type_id=meeting_type_id,
            granularity=granularity,
            team_id=team_id,
            refresh=refresh_summary,
        )
except MeetingsError as error:
    st.error(error.detail)
    st.stop()

st.caption(
    f"Booking sessions with step events from {start:%d %b %Y} 00:00 to {last_day:%d %b %Y} 24:00 UTC, the same "
    "numbers as GET /api/v1/admin/funnel. A session counts once per step it reached, however often it went back."
)

metric_columns = st.columns(len(result.steps))
for column, step in zip(metric_columns, result.steps, strict=True):
    column.metric(
        charts.step_label(step.name),
        f"{step.sessions:,}",
        help=f"{step.name}: distinct booking sessions that reached this step",
    )

chart_column, table_column = st.columns([1, 1])
with chart_column:
    st.plotly_chart(charts.funnel_figure(result), key="funnel_chart")
with table_column:
    st.subheader("Steps")
    st.dataframe(
        [
            {
                "step": step.name,
                "sessions": step.sessions,
                "conversion": f"{step.conversion:.1%}",
                "drop-off": step.drop_off,
                "drop-off rate": f"{step.drop_off_rate:.1%}",
            }
            for step in result.steps
        ],
        hide_index=True,
        key="funnel_steps",
    )
    st.subheader("Median time between steps")
    st.dataframe(
        [
            {
                "from": charts.step_label(d.from_step),
                "to": charts.step_label(d.to_step),
                "median": duration(d.median_seconds),
                "sessions": d.sessions,
            }
            for d in result.median_seconds_between_steps
        ],
        hide_index=True,
        key="funnel_medians",
    )

st.subheader(f"Trend per {granularity}")
st.plotly_chart(charts.trend_figure(result), key="funnel_trend")

st.download_button(
    "Download CSV",
    data=funnel_csv(result),
    file_name=f"funnel-{first_day.isoformat()}-{last_day.isoformat()}.csv",
    mime="text/csv",
    key="funnel_csv",
)
