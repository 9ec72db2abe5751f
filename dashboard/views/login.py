"""Sign in with email and password."""

import streamlit as st

from dashboard.components import runtime
from shared.accounts import service as accounts
from shared.errors import MeetingsError
from shared.models import utcnow

if st.query_params.get("calendar"):
    st.session_state[runtime.CALENDAR_OUTCOME_KEY] = st.query_params.to_dict()
    st.session_state[runtime.GO_TO_SETTINGS_KEY] = True

st.title("Meetings dashboard")
st.caption("Sign in to see the booking funnel, calendars, meeting types and the outbox.")

with st.form("login", clear_on_submit=False):
    email = st.text_input("Email", key="login_email", autocomplete="username")
    password = st.text_input("Password", type="password", key="login_password", autocomplete="current-password")
    submitted = st.form_submit_button("Sign in", type="primary")

if submitted:
    token = None
    try:
        with runtime.db() as session:
            token = accounts.login(session, email=email, password=password, now=utcnow())
    except MeetingsError as error:
        st.error(f"Sign-in refused: {error.detail}.")
    if token is not None:
        runtime.sign_in(token)
        st.rerun()
