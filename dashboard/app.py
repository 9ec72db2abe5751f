"""The dashboard's entry point: only a router. Which pages exist depends on who is signed in.

Run with `meetings dashboard` (or `streamlit run dashboard/app.py`). Without a valid session only the
login page exists; every page reads and changes data through shared.accounts.scoped, which checks
what the signed-in user may do.
"""

import streamlit as st

from dashboard.components import runtime

st.set_page_config(page_title="Meetings dashboard", page_icon="📅", layout="wide")

user = runtime.resolve_user()

if user is None:
    navigation = st.navigation([st.Page("views/login.py", title="Sign in", icon="🔑")], position="hidden")
else:
    calendar_title = "Calendar settings" if user.is_manager else "My calendar & settings"
    navigation = st.navigation(
        {
            "Insights": [
                st.Page("views/funnel.py", title="Funnel", icon="📊", url_path="funnel", default=True),
                st.Page("views/users.py", title="Users", icon="👤", url_path="users"),
            ],
            "Calendars": [
                st.Page("views/calendars.py", title="Calendars", icon="🗓️", url_path="calendars"),
                st.Page("views/settings.py", title=calendar_title, icon="⚙️", url_path="settings"),
                st.Page("views/meeting_types.py", title="Meeting types", icon="🧩", url_path="meeting-types"),
            ],
            "Operations": [
                st.Page("views/outbox.py", title="Outbox", icon="📮", url_path="outbox"),
                st.Page("views/account.py", title="Account", icon="🔐", url_path="account"),
            ],
        }
    )
    with st.sidebar:
        st.caption("Signed in as")
        st.text(f"{user.name}\n{user.email} · {user.role}")
        if st.button("Log out", key="logout", width="stretch"):
            runtime.sign_out()
            st.rerun()

navigation.run()
