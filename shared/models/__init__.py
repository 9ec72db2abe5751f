"""All tables, imported in one place so Alembic and the app see the whole schema."""

from shared.models.agent import Agent, Availability, DashboardSession
from shared.models.base import Base, UTCDateTime, utcnow
from shared.models.booking import STATUS_CANCELLED, STATUS_CONFIRMED, Booking, BookingHost
from shared.models.calendar import CalendarConnection, OAuthState
from shared.models.contact import Contact, Event, Visitor
from shared.models.email_message import EmailMessage
from shared.models.erasure import ContactErasure
from shared.models.funnel import (
    FunnelDayCount,
    FunnelDayGap,
    FunnelDirtyDay,
    FunnelSession,
    FunnelSessionMeetingType,
    FunnelSummaryState,
)
from shared.models.meeting_type import PREDEFINED_MEETING_TYPES, MeetingType
from shared.models.outbox import OutboxJob
from shared.models.rate_limit import RateLimitHit
from shared.models.team import Team, TeamMember
from shared.models.webhook import WebhookDelivery, WebhookEndpoint

__all__ = [
    "PREDEFINED_MEETING_TYPES",
    "STATUS_CANCELLED",
    "STATUS_CONFIRMED",
    "Agent",
    "Availability",
    "Base",
    "Booking",
    "BookingHost",
    "CalendarConnection",
    "Contact",
    "ContactErasure",
    "DashboardSession",
    "EmailMessage",
    "Event",
    "FunnelDayCount",
    "FunnelDayGap",
    "FunnelDirtyDay",
    "FunnelSession",
    "FunnelSessionMeetingType",
    "FunnelSummaryState",
    "MeetingType",
    "OAuthState",
    "OutboxJob",
    "RateLimitHit",
    "Team",
    "TeamMember",
    "UTCDateTime",
    "Visitor",
    "WebhookDelivery",
    "WebhookEndpoint",
    "utcnow",
]
