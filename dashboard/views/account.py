"""The signed-in user's account: who they are, change password, log out."""

import streamlit as st

from dashboard.components import runtime
from dashboard.components.text import md
from shared.accounts import service as accounts

user = runtime.user()
st.title("Account")
runtime.show_flash()
st.markdown(f"**{md(user.name)}** · {md(user.email)} · {user.role}")
st.caption(f"Sessions last {int(accounts.SESSION_LIFETIME.total_seconds() // 3600)} hours; then sign in again.")

st.header("Change password")
with st.form("change_password", clear_on_submit=True):
    current = st.text_input("Current password", type="password", key="password_current")
    new = st.text_input(
        f"New password (at least {accounts.MIN_PASSWORD_LENGTH} characters)", type="password", key="password_new"
    )
    again = st.text_input("New password again", type="password", key="password_again")
    if st.form_submit_button("Change password", type="primary"):
        if new != again:
            st.error("Not changed: the two new passwords differ.")
        else:
            runtime.act(
                lambda session: accounts.change_password(
                    session,
                    agent_id=user.id,
                    current_password=current,
                    new_password=new,
                    keep_token=runtime.current_token(),
                ),
                success="Password changed. Your other sessions were signed out.",
                refused="Not changed",
            )

if st.button("Log out", key="account_logout"):
    runtime.sign_out()
    st.rerun()
