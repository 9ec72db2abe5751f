"""The outbox job kinds of the notification channels and their handlers."""

from __future__ import annotations

from shared.notifications.email_delivery import (
    handle_agent_notice,
    handle_booking_email,
    handle_joining_details,
    handle_reminder_email,
)
from shared.notifications.planning import AGENT_NOTICE_JOB, EMAIL_JOB, JOINING_DETAILS_JOB
from shared.notifications.reminders import REMINDER_JOB
from shared.notifications.webhook_delivery import handle_webhook_delivery
from shared.notifications.webhooks import WEBHOOK_JOB
from shared.outbox.contract import JobHandler


def notification_handlers() -> dict[str, JobHandler]:
    return {
        EMAIL_JOB: handle_booking_email,
        AGENT_NOTICE_JOB: handle_agent_notice,
        REMINDER_JOB: handle_reminder_email,
        JOINING_DETAILS_JOB: handle_joining_details,
        WEBHOOK_JOB: handle_webhook_delivery,
    }
