"""Demo data for `meetings demo`: agents with logins, their hours and meeting types, and six weeks of
widget sessions with the drop-off of a real funnel, so every dashboard page has something to show;
and a "Sales team" round-robin link of the three agents (SPEC §15) with its own sessions and bookings.

Deterministic (`random.Random(42)`) apart from the secrets (links, tokens, password salts), and seeded
only once: a second run finds the manager and adds nothing. The team's sessions draw from their own
generator after the agents' ones, so adding them moved no figure of the agents' demo. Slots are
picked with the availability engine, so every booking respects its agent's rules. Bookings still
ahead of `now` go through `shared.booking.service.book` (a team's: `book_team`, with `now` = the
moment the form was submitted) and are cancelled with `cancel_booking`; bookings already past
cannot (nothing may be booked into the past), so they go through `record_past_booking` and
`record_past_cancellation`, which write the same rows without outbox jobs, as their emails went
out long ago.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.agents.service import create_agent
from shared.auth.passwords import hash_password
from shared.availability.busy import booked_time
from shared.availability.engine import free_slots
from shared.availability.rules import AvailabilityRules, Busy, Slot
from shared.availability.service import default_sources, rules_from_model
from shared.booking.schemas import BookingRequest
from shared.booking.service import book, book_team, cancel_booking, record_past_booking, record_past_cancellation
from shared.contacts.service import contact_for_visitor, record_event
from shared.models import Agent, Booking, Event, MeetingType, Team
from shared.models.agent import ROLE_MANAGER
from shared.models.team import MODE_ROUND_ROBIN
from shared.settings import Settings
from shared.teams.service import create_team, create_team_meeting_type

DEMO_PASSWORD = "demo"
MANAGER_EMAIL = "manager@example.com"
DEMO_DAYS = 42
DEMO_TEAM_NAME = "Sales team"
DEMO_TEAM_TYPE = "Sales call"
# The team link's traffic, next to the agents' 14 sessions a weekday.
TEAM_SESSIONS_PER_WEEKDAY = 5.0

SPLIT_DAY = [["09:00", "12:00"], ["13:00", "17:00"]]


@dataclass(frozen=True)
class DemoAgent:
    name: str
    email: str
    timezone: str
    weight: float  # share of the widget traffic
    invitee_zones: tuple[str, ...]


DEMO_AGENTS = (
    DemoAgent("Ola Nowak", "ola@example.com", "Europe/Warsaw", 0.45, ("Europe/Warsaw", "Europe/Berlin")),
    DemoAgent(
        "James Carter",
        "james@example.com",
        "America/New_York",
        0.35,
        ("America/New_York", "America/Chicago", "America/Los_Angeles"),
    ),
    DemoAgent("Priya Shah", "priya@example.com", "Europe/London", 0.20, ("Europe/London", "Europe/Dublin")),
)

FIRST_NAMES = (
    "Anna",
    "Piotr",
    "Zofia",
    "Tomasz",
    "Marta",
    "Łukasz",
    "Emily",
    "Michael",
    "Sarah",
    "David",
    "José",
    "Zoë",
    "Siobhán",
    "Mateusz",
    "Aisha",
    "Kenji",
    "Lars",
    "Chloé",
    "Noah",
    "Grace",
    "Liam",
    "Hannah",
    "Ethan",
    "Sofia",
    "Oliver",
    "Mia",
    "Jakub",
    "Katarzyna",
    "Fatima",
    "Omar",
    "Ingrid",
    "Mateo",
)
LAST_NAMES = (
    "Kowalski",
    "Wiśniewska",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Garcia",
    "Müller",
    "Schmidt",
    "O'Brien",
    "Murphy",
    "Rossi",
    "Dubois",
    "Tanaka",
    "Patel",
    "Khan",
    "Andersson",
    "Jansen",
    "Silva",
    "Martin",
    "Lee",
    "Walker",
    "Clarke",
    "Hughes",
    "Lewandowski",
    "Zieliński",
    "Fernández",
    "Okafor",
)
COMPANIES = (
    ("Acme Logistics", "acmelogistics.com"),
    ("Northwind Traders", "northwind.io"),
    ("Blue Harbor Bank", "blueharbor.co.uk"),
    ("Kwiat Studio", "kwiatstudio.pl"),
    ("Helios Energy", "helios-energy.de"),
    ("Pinecrest Health", "pinecresthealth.org"),
    ("Quantum Retail", "quantumretail.com"),
    ("Vistula Software", "vistulasoft.pl"),
    ("Riverside Realty", "riversiderealty.com"),
    ("Lumen Analytics", "lumenanalytics.ai"),
    ("Brightpath Education", "brightpath.edu"),
    ("Atlas Insurance", "atlas-insurance.com"),
    ("Greenleaf Foods", "greenleaffoods.co"),
    ("Nordic Freight", "nordicfreight.se"),
    ("Copperline Telecom", "copperline.net"),
    ("Maple & Oak Legal", "mapleoak.law"),
    ("Stellar Travel", "stellartravel.com"),
    ("Orbit Fintech", "orbitfin.com"),
)
DESCRIPTIONS = (
    "We have about 40 people answering chats and want to see how routing rules work.",
    "Need help connecting the widget to our Shopify store.",
    "Pricing for 25 seats with annual billing?",
    "The chat window stopped opening on mobile Safari after our last release.",
    "We're moving from another chat tool and want to understand the migration.",
    "Could you walk us through the reporting and the CSV exports?",
    "Onboarding for our new support team (6 people), ideally before the end of the month.",
    "Quick question about GDPR and how long transcripts are kept.",
    "Is the Salesforce integration two-way?",
    "Our managers would like to see a demo of the analytics.",
    "Setting up business hours for two offices in different time zones.",
    "",
)
CANCEL_REASONS = ("Something came up, I'll book again next week.", "We found the answer in the docs.", None)


@dataclass
class DemoSummary:
    """What `meetings demo` prints: the logins and the first demo agent's booking link."""

    created: bool
    manager_email: str
    password: str
    agents: list[tuple[str, str, str]]  # (name, email, link) of the agents taking calls
    teams: list[tuple[str, str]] = field(default_factory=list)  # (name, link) of the demo teams
    sessions: int = 0
    bookings: int = 0
    cancelled: int = 0

    @property
    def first_link(self) -> str:
        return self.agents[0][2]


@dataclass
class _AgentPlan:
    """One demo agent while seeding: the rules, and the bookings made so far (kept in memory)."""

    agent: Agent
    spec: DemoAgent
    rules: AvailabilityRules
    types: list[tuple[MeetingType, float]]
    busy: list[Busy] = field(default_factory=list)  # the bookings so far, each with its own buffers
    starts: list[datetime] = field(default_factory=list)


def _ascii(text: str) -> str:
    text = text.replace("ł", "l").replace("Ł", "L")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace("'", "").lower()


# Where the demo calls happen (SPEC §14): Google Meet (the demo has no Google connection, so the
# dashboard shows it as "not connected" until Google is set up; its bookings get their link once it
# is), a fixed Zoom link, and a phone call the agent makes (the form asks for the invitee's phone).
DEMO_LOCATIONS: dict[str, tuple[str, str | None]] = {
    "Demo": ("google_meet", None),
    "Onboarding": ("link", "https://zoom.us/j/5550100200"),
    "Assistance": ("phone", None),
    "Technical deep dive": ("in_person", "Meetings HQ, ul. Prosta 20, 00-850 Warsaw"),
}


def _set_demo_locations(agent: Agent) -> None:
    # Set on the rows directly: the admin check refuses google_meet without a connected Google
    # Calendar, and showing that state is the point of the demo's Meet type.
    for meeting_type in agent.meeting_types:
        kind, value = DEMO_LOCATIONS.get(meeting_type.name, ("none", None))
        meeting_type.location_kind, meeting_type.location_value = kind, value


def _configure_agents(session: Session, *, now: datetime) -> tuple[Agent, list[_AgentPlan]]:
    """The manager and three agents with varied hours: split days, buffers, a daily maximum, a day off."""
    manager = create_agent(
        session,
        name="Morgan Manager",
        email=MANAGER_EMAIL,
        timezone="Europe/Warsaw",
        role=ROLE_MANAGER,
        password_hash=hash_password(DEMO_PASSWORD),
    )
    agents = [
        create_agent(
            session, name=s.name, email=s.email, timezone=s.timezone, password_hash=hash_password(DEMO_PASSWORD)
        )
        for s in DEMO_AGENTS
    ]
    ola, james, priya = agents
    today = now.date()
    next_friday = today + timedelta(days=(4 - today.weekday()) % 7 + 7)
    next_saturday = next_friday + timedelta(days=8)
    ola.availability.weekly = {day: [list(w) for w in SPLIT_DAY] for day in ("mon", "tue", "wed", "thu", "fri")}
    ola.availability.overrides = [
        {"date": next_friday.isoformat(), "windows": []},  # a day off
        {"date": next_saturday.isoformat(), "windows": [["10:00", "13:00"]]},  # a Saturday clinic
    ]
    james.availability.weekly = {
        **{day: [["10:00", "18:00"]] for day in ("mon", "tue", "wed", "thu")},
        "fri": [["10:00", "15:00"]],
    }
    james.availability.buffer_before_minutes = 15
    james.availability.buffer_after_minutes = 10
    james.availability.slot_interval_minutes = 15
    james.meeting_types.append(
        MeetingType(
            name="Technical deep dive",
            duration_minutes=60,
            colour="#7c3aed",
            position=3,
            active=True,
            description="An hour with an engineer on integrations, the API and security questions.",
            location_kind=DEMO_LOCATIONS["Technical deep dive"][0],
            location_value=DEMO_LOCATIONS["Technical deep dive"][1],
        )
    )
    for agent in agents:
        _set_demo_locations(agent)
    priya.availability.weekly = {day: [["08:30", "16:30"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    priya.availability.max_per_day = 4
    priya.availability.min_notice_minutes = 24 * 60
    priya.availability.horizon_days = 30
    session.flush()

    type_weights = {"Demo": 0.5, "Onboarding": 0.25, "Assistance": 0.2, "Technical deep dive": 0.1}
    plans = [
        _AgentPlan(
            agent=agent,
            spec=spec,
            rules=rules_from_model(agent.availability),
            types=[(m, type_weights.get(m.name, 0.1)) for m in agent.meeting_types],
        )
        for agent, spec in zip(agents, DEMO_AGENTS, strict=True)
    ]
    return manager, plans


def _session_starts(rng: random.Random, now: datetime, *, per_weekday: float = 14.0) -> list[datetime]:
    """When widget sessions began: busier on weekdays and growing over the six weeks."""
    starts: list[datetime] = []
    first_day = (now - timedelta(days=DEMO_DAYS)).date()
    for offset in range(DEMO_DAYS + 1):
        day = first_day + timedelta(days=offset)
        mean = (per_weekday if day.weekday() < 5 else per_weekday * 4 / 14) * (0.75 + 0.5 * offset / DEMO_DAYS)
        for _ in range(max(0, round(rng.gauss(mean, mean**0.5)))):
            moment = datetime.combine(day, time(0), tzinfo=now.tzinfo) + timedelta(
                seconds=rng.uniform(6 * 3600, 22 * 3600)
            )
            if moment < now - timedelta(minutes=15):
                starts.append(moment)
    return sorted(starts)


def _pick_slot(rng: random.Random, plan: _AgentPlan, duration: timedelta, at: datetime) -> Slot | None:
    """A free slot as the widget would have offered it at `at`, soon rather than late."""
    # An hour of margin: the slot must still be valid when the form is submitted minutes later.
    offered_from = at + timedelta(hours=1)
    slots = free_slots(
        plan.rules,
        duration=duration,
        busy=plan.busy,
        now=offered_from,
        range_start=offered_from,
        range_end=offered_from + timedelta(days=14),
        booked_starts=plan.starts,
    )
    if not slots:
        return None
    days = sorted({s.start.date() for s in slots})[:10]
    day = rng.choices(days, weights=[1 / (1 + 0.3 * i) for i in range(len(days))])[0]
    return rng.choice([s for s in slots if s.start.date() == day])


@dataclass(frozen=True)
class _Visit:
    """One widget session: who, with which agent and meeting type, in which time zone."""

    plan: _AgentPlan
    meeting_type: MeetingType
    visitor_id: str
    session_id: str
    zone: ZoneInfo


@dataclass
class _Person:
    first_name: str
    last_name: str
    company: str
    email: str

    @property
    def phone(self) -> str:
        # From the email, not the random stream: adding phones moved no other demo value.
        digits = str(int(hashlib.sha256(self.email.encode()).hexdigest(), 16))[:9]
        return f"+48 {digits[:3]} {digits[3:6]} {digits[6:]}"


def _demo_locale(email: str) -> str:
    """The language a demo visitor booked in: about one in five Polish, one in ten German, else
    English. Read from the email, not drawn from the seeded generator, so every other figure of the
    demo stays as it was."""
    bucket = zlib.crc32(email.encode()) % 10
    return "pl" if bucket < 2 else "de" if bucket == 2 else "en"


def _new_person(rng: random.Random, taken: set[str]) -> _Person:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company, domain = rng.choice(COMPANIES)
    email = f"{_ascii(first)}.{_ascii(last)}@{domain}"
    n = 2
    while email in taken:
        email, n = f"{_ascii(first)}.{_ascii(last)}{n}@{domain}", n + 1
    taken.add(email)
    return _Person(first, last, company, email)


def _create_team(session: Session, *, now: datetime, plans: list[_AgentPlan]) -> tuple[Team, MeetingType]:
    """The "Sales team": the three agents, round robin, with one meeting type of its own."""
    team = create_team(
        session,
        name=DEMO_TEAM_NAME,
        mode=MODE_ROUND_ROBIN,
        member_ids=[plan.agent.id for plan in plans],
        now=now - timedelta(days=DEMO_DAYS + 1),
    )
    meeting_type = create_team_meeting_type(
        session,
        team_id=team.id,
        name=DEMO_TEAM_TYPE,
        duration_minutes=30,
        colour="#0f766e",
        description="Pricing and plans with whoever of our sales team is free first.",
    )
    # Google Meet like the agents' Demo type, set on the row for the same reason (_set_demo_locations).
    meeting_type.location_kind, meeting_type.location_value = DEMO_LOCATIONS["Demo"]
    return team, meeting_type


class _Seeder:
    def __init__(
        self, session: Session, *, now: datetime, plans: list[_AgentPlan], rng: random.Random | None = None
    ) -> None:
        self.session = session
        self.now = now
        self.plans = plans
        self.rng = rng or random.Random(42)
        self.visitors: list[str] = []
        self.people: dict[str, _Person] = {}
        self.contact_of: dict[str, int] = {}  # visitor id -> contact id (saves a lookup per step)
        self.emails: set[str] = set()
        self.sessions = 0
        self.bookings: list[Booking] = []
        self.cancelled = 0

    def _step(
        self,
        name: str,
        visit: _Visit,
        *,
        at: datetime,
        slot: Slot | None = None,
        with_start: bool = False,
        team: Team | None = None,
    ) -> None:
        """A step event as `POST /api/v1/events` records it (steps 1–3 of the widget)."""
        contact_id = self.contact_of.get(visit.visitor_id)
        if contact_id is None:
            contact_id = contact_for_visitor(self.session, visitor_id=visit.visitor_id).id
            self.contact_of[visit.visitor_id] = contact_id
        record_event(
            self.session,
            name=name,
            contact_id=contact_id,
            # A team link's steps name the team and no agent (the member is known once booked).
            agent_id=visit.plan.agent.id if team is None else None,
            team_id=team.id if team is not None else None,
            meeting_type_id=visit.meeting_type.id,
            session_id=visit.session_id,
            visitor_id=visit.visitor_id,
            chosen_date=slot.start.astimezone(visit.zone).date().isoformat() if slot else None,
            chosen_start=slot.start if slot and with_start else None,
            occurred_at=at,
            now=self.now,
        )

    def run_session(self, started: datetime, *, team: tuple[Team, MeetingType] | None = None) -> None:
        """One widget session on an agent's link, or with `team` on the team's link: the visitor picks
        a start one of the members has free (the team offers the union of its members' starts)."""
        rng = self.rng
        if team is None:
            plan = rng.choices(self.plans, weights=[p.spec.weight for p in self.plans])[0]
            meeting_type = rng.choices([m for m, _ in plan.types], weights=[w for _, w in plan.types])[0]
        else:
            plan, meeting_type = rng.choice(self.plans), team[1]
        on_team = team[0] if team is not None else None
        if self.visitors and rng.random() < 0.12:
            visitor_id = rng.choice(self.visitors)  # a returning visitor
        else:
            visitor_id = f"v-{rng.getrandbits(64):016x}"
            self.visitors.append(visitor_id)
        session_id = f"s-{rng.getrandbits(64):016x}"
        zone = ZoneInfo(rng.choice(plan.spec.invitee_zones))
        visit = _Visit(plan, meeting_type, visitor_id, session_id, zone)
        self.sessions += 1

        self._step("calendar_1st_step", visit, at=started, team=on_team)
        at = started + timedelta(seconds=rng.lognormvariate(3.0, 0.6))  # ~20 s to pick a date
        duration = timedelta(minutes=meeting_type.duration_minutes)
        slot = _pick_slot(rng, plan, duration, started)
        if slot is None or at > self.now or rng.random() > 0.72:
            return
        if rng.random() < 0.1:  # looked at another day first, then came back: still one session
            other = _pick_slot(rng, plan, duration, started)
            self._step("calendar_2nd_step", visit, at=at, slot=other, team=on_team)
            at += timedelta(seconds=rng.uniform(5, 40))
        self._step("calendar_2nd_step", visit, at=at, slot=slot, team=on_team)
        at += timedelta(seconds=rng.lognormvariate(3.5, 0.6))  # ~35 s to pick an hour
        if at > self.now or rng.random() > 0.62:
            return
        self._step("calendar_3rd_step", visit, at=at, slot=slot, with_start=True, team=on_team)
        at += timedelta(seconds=rng.lognormvariate(4.4, 0.5))  # ~80 s to fill in the form
        if at > self.now or rng.random() > 0.8:
            return
        person = self.people.get(visitor_id) or _new_person(rng, self.emails)
        self.people[visitor_id] = person
        request = BookingRequest(
            meeting_type_id=meeting_type.id,
            start=slot.start,
            timezone=zone.key,
            first_name=person.first_name,
            last_name=person.last_name,
            company_name=person.company,
            email=person.email,
            description=rng.choice(DESCRIPTIONS),
            visitor_id=visitor_id,
            session_id=session_id,
            locale=_demo_locale(person.email),
            phone=person.phone if meeting_type.phone_required else None,
        )
        booking = self._book(plan, request, meeting_type, submitted=at, team=on_team)
        # A team booking went to whichever member the round robin chose (not always the one picked).
        plan = next(p for p in self.plans if p.agent.id == booking.agent_id)
        self.contact_of[visitor_id] = booking.contact_id  # the anonymous contact was merged into this one
        # With its buffers, as the booking check sees it (shared.availability.engine.occupied_time): a
        # plain interval let the demo pick a start inside a buffer of James's, which `book` refuses.
        plan.busy.append(booked_time(booking, plan.agent.availability))
        plan.starts.append(booking.start_at)
        self.bookings.append(booking)
        if rng.random() < 0.08:
            self._cancel(booking, rng.uniform(0.1, 0.9))

    def _book(
        self,
        plan: _AgentPlan,
        request: BookingRequest,
        meeting_type: MeetingType,
        *,
        submitted: datetime,
        team: Team | None = None,
    ) -> Booking:
        key = f"demo-{request.session_id}"
        if request.start > self.now:
            if team is None:
                booking, _ = book(
                    self.session,
                    link=plan.agent.link,
                    request=request,
                    idempotency_key=key,
                    now=submitted,
                    sources=default_sources(),
                )
            else:
                booking, _ = book_team(
                    self.session,
                    team=team,
                    request=request,
                    idempotency_key=key,
                    now=submitted,
                    sources=default_sources(),
                )
            booking.created_at = booking.updated_at = submitted
            return booking
        booking = record_past_booking(
            self.session,
            agent=plan.agent,
            meeting_type=meeting_type,
            request=request,
            idempotency_key=key,
            booked_at=submitted,
        )
        if team is not None:
            # record_past_booking writes an agent booking: the team is set on it and its two events,
            # as book_team would have (the session's earlier steps already name the team).
            booking.team_id = team.id
            for event in self.session.scalars(select(Event).where(Event.booking_id == booking.id)):
                event.team_id = team.id
        return booking

    def _cancel(self, booking: Booking, fraction: float) -> None:
        """Cancelled some time between booking and the call (or now, if the call is still ahead)."""
        created = booking.created_at
        at = created + (min(booking.start_at, self.now) - created) * fraction
        reason = self.rng.choice(CANCEL_REASONS)
        if booking.start_at > self.now:
            cancel_booking(self.session, booking=booking, reason=reason, now=at)
        else:
            record_past_cancellation(self.session, booking=booking, reason=reason, cancelled_at=at)
        self.cancelled += 1


def _summary(*, created: bool, agents: Sequence[Agent], teams: Sequence[Team] = ()) -> DemoSummary:
    return DemoSummary(
        created=created,
        manager_email=MANAGER_EMAIL,
        password=DEMO_PASSWORD,
        agents=[(a.name, a.email, a.link) for a in agents],
        teams=[(t.name, t.link) for t in teams],
    )


def seed_demo(session: Session, *, now: datetime, settings: Settings) -> DemoSummary:
    """Seed the demo once (agents, hours, meeting types, ~6 weeks of widget sessions and bookings).

    Idempotent: when the demo manager already exists nothing is added and the summary describes what
    is there. `settings` is accepted for the front doors' symmetry; links are printed by the caller.
    """
    del settings  # nothing in the seed depends on deployment settings today
    if session.scalar(select(func.count()).select_from(Agent).where(Agent.email == MANAGER_EMAIL)):
        emails = [spec.email for spec in DEMO_AGENTS]
        existing = {a.email: a for a in session.scalars(select(Agent).where(Agent.email.in_(emails)))}
        teams = session.scalars(select(Team).where(Team.name == DEMO_TEAM_NAME, Team.deleted_at.is_(None)))
        return _summary(created=False, agents=[existing[e] for e in emails if e in existing], teams=list(teams))

    _, plans = _configure_agents(session, now=now)
    seeder = _Seeder(session, now=now, plans=plans)
    for started in _session_starts(seeder.rng, now):
        seeder.run_session(started)
    # The team's sessions after the agents' (their own generator: the agents' figures stay), so the
    # members' bookings are known and the team's land where they are free.
    team = _create_team(session, now=now, plans=plans)
    team_seeder = _Seeder(session, now=now, plans=plans, rng=random.Random(14))
    team_seeder.visitors, team_seeder.people, team_seeder.emails = seeder.visitors, seeder.people, seeder.emails
    team_seeder.contact_of = seeder.contact_of
    for started in _session_starts(team_seeder.rng, now, per_weekday=TEAM_SESSIONS_PER_WEEKDAY):
        team_seeder.run_session(started, team=team)
    session.flush()
    summary = _summary(created=True, agents=[p.agent for p in plans], teams=[team[0]])
    summary.sessions = seeder.sessions + team_seeder.sessions
    summary.bookings = len(seeder.bookings) + len(team_seeder.bookings)
    summary.cancelled = seeder.cancelled + team_seeder.cancelled
    return summary


def demo_counts(session: Session) -> dict[str, int]:
    """Row counts of what the demo fills, for the CLI and the tests."""
    return {
        "agents": session.scalar(select(func.count()).select_from(Agent)) or 0,
        "bookings": session.scalar(select(func.count()).select_from(Booking)) or 0,
        "events": session.scalar(select(func.count()).select_from(Event)) or 0,
    }
