"""The dashboard's entry point: only a router. Which pages exist depends on who is signed in.

Run with `meetings dashboard` (or `streamlit run dashboard/app.py`). Without a valid session only the
sign-in page exists; every page reads and changes data through shared.accounts.scoped, which checks
what the signed-in user may do. The page files live in views/, not pages/: a pages/ folder beside the
entry file switches Streamlit to its older automatic multipage mode, which fights st.navigation.
"""

import streamlit as st

from dashboard.components import runtime


def page(file: str, title: str, icon: str, url_path: str, *, default: bool = False) -> st.Page:
    return st.Page(f"views/{file}", title=title, icon=f":material/{icon}:", url_path=url_path, default=default)


st.set_page_config(page_title="Meetings dashboard", page_icon=":material/calendar_month:", layout="wide")

user = runtime.resolve_user()

if user is None:
    navigation = st.navigation([page("login.py", "Sign in", "login", "login")], position="hidden")
else:
    navigation = st.navigation(
        {
            "Insights": [
                page("funnel.py", "Funnel", "filter_alt", "funnel", default=True),
                page("users.py", "Users", "group", "users"),
            ],
            "Calendars": [
                page("calendars.py", "Calendars", "calendar_month", "calendars"),
                settings_page := page(
                    "settings.py",
                    "Calendar settings" if user.is_manager else "My calendar & settings",
                    "tune",
                    "settings",
                ),
                page("meeting_types.py", "Meeting types", "category", "meeting-types"),
            ],
            "Operations": [
                page("outbox.py", "Outbox", "outbox", "outbox"),
                *(
                    [page("team.py", "Team", "badge", "team"), page("teams.py", "Teams", "groups", "teams")]
                    if user.is_manager
                    else []
                ),
                page("account.py", "Account", "account_circle", "account"),
            ],
        }
    )
    with st.sidebar:
        st.caption("Signed in as")
        st.text(f"{user.name}\n{user.email} · {user.role}")
        if st.button("Log out", key="logout", width="stretch"):
            runtime.sign_out()
            st.rerun()
    if st.session_state.pop(runtime.GO_TO_SETTINGS_KEY, False):
        st.switch_page(settings_page)

navigation.run()
