"""The outbox: emails, calendar and webhook jobs with their state and errors; retry; stored emails."""

from datetime import UTC, datetime

import streamlit as st

from dashboard.components import runtime
from dashboard.components.text import md, when
from shared.accounts.scoped import agents as scoped_agents
from shared.accounts.scoped import outbox as scoped_outbox
from shared.errors import MeetingsError
from shared.models.outbox import JOB_DONE, JOB_FAILED, JOB_PENDING, JOB_RUNNING, JOB_WAITING

STATUSES = (JOB_PENDING, JOB_RUNNING, JOB_WAITING, JOB_FAILED, JOB_DONE)
RETRYABLE = (JOB_FAILED, JOB_WAITING, JOB_PENDING)

user = runtime.user()
settings = runtime.settings()
st.title("Outbox")
runtime.show_flash()
st.caption(
    "Everything that talks to the outside (emails, Google Calendar events, webhooks) is recorded here first and "
    "done by the worker, with retries. A booking never waits for it."
)

with runtime.db() as session:
    counts = scoped_outbox.job_counts(session, actor=user)
    agent_names = {agent.id: agent.name for agent in scoped_agents.visible_agents(session, actor=user)}
columns = st.columns(len(STATUSES))
for column, status in zip(columns, STATUSES, strict=True):
    column.metric(status, counts.get(status, 0))

jobs_tab, emails_tab = st.tabs(["Jobs", "Emails"])

with jobs_tab:
    filters = st.columns(2)
    statuses = filters[0].multiselect("Status", STATUSES, key="outbox_statuses", placeholder="any status")
    families = filters[1].multiselect(
        "Kind",
        list(scoped_outbox.FAMILIES),
        format_func=scoped_outbox.FAMILIES.__getitem__,
        key="outbox_families",
        placeholder="emails, calendar and webhooks",
    )
    with runtime.db() as session:
        jobs = [
            {
                "id": job.id,
                "kind": job.kind,
                "status": job.status,
                "attempts": f"{job.attempts}/{job.max_attempts}",
                "last error": job.last_error or "",
                "next attempt (UTC)": when(job.next_attempt_at) if job.status in (JOB_PENDING, JOB_RUNNING) else "",
                "booking": job.booking_id,
                "agent": agent_names.get(job.agent_id, "") if job.agent_id else "",
                "created (UTC)": when(job.created_at),
                "done (UTC)": when(job.done_at),
            }
            for job in scoped_outbox.list_jobs(session, actor=user, statuses=statuses, families=families)
        ]
    if not jobs:
        st.info("No jobs.")
    else:
        st.dataframe(jobs, hide_index=True, key="outbox_jobs")
        retryable = {
            job["id"]: f"#{job['id']} {job['kind']} ({job['status']})" for job in jobs if job["status"] in RETRYABLE
        }
        if retryable:
            with st.form("retry_form"):
                job_id = st.selectbox("Job", list(retryable), format_func=retryable.__getitem__, key="retry_job_id")
                if st.form_submit_button("Retry now"):
                    runtime.act(
                        lambda session: scoped_outbox.retry_job(
                            session, actor=user, job_id=job_id, now=datetime.now(UTC)
                        ),
                        success=f"Job #{job_id} queued again with fresh attempts.",
                        refused="Not retried",
                    )
        else:
            st.caption("No failed, waiting or pending jobs to retry.")

with emails_tab:
    if settings.smtp_url:
        st.caption("SMTP_URL is set: emails are sent; copies of what was sent are listed here.")
    else:
        st.info("No SMTP_URL is set: emails are not sent but kept here, where you can read them.")
    with runtime.db() as session:
        emails = [
            {
                "id": email.id,
                "to": email.to_address,
                "subject": email.subject,
                "transport": email.transport,
                "created (UTC)": when(email.created_at),
                "sent (UTC)": when(email.sent_at),
                "booking": email.booking_id,
            }
            for email in scoped_outbox.list_emails(session, actor=user)
        ]
    if not emails:
        st.caption("No emails yet.")
    else:
        st.dataframe(emails, hide_index=True, key="outbox_emails")
        subjects = {row["id"]: f"#{row['id']} to {row['to']}: {row['subject']}" for row in emails}
        email_id = st.selectbox("Read", list(subjects), format_func=subjects.__getitem__, key="email_id")
        try:
            with runtime.db() as session:
                email = scoped_outbox.get_email(session, actor=user, email_id=email_id)
                header = f"To: {email.to_address}\nSubject: {email.subject}\nMessage-ID: {email.message_id or '—'}"
                text_body, html_body, ics = email.text_body, email.html_body, email.ics
        except MeetingsError as error:
            st.error(error.detail)
        else:
            st.subheader(md(email.subject))
            st.text(header)
            # The text part, as text. The HTML part is shown as source, never rendered: it carries the
            # invitee's words, and the dashboard does not render HTML it did not write itself.
            st.text(text_body)
            if html_body:
                with st.expander("HTML part (source)"):
                    st.code(html_body, language="html")
            if ics:
                with st.expander("Calendar invitation (.ics)"):
                    st.code(ics, language=None)
