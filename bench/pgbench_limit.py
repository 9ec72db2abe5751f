"""What PostgreSQL allows for a booking: the booking's write transaction replayed by `pgbench`.

    .venv/bin/python -m bench.pgbench_limit [--clients 32] [--seconds 15] [--repeat 3] [--agents 20]

The limit row of SPEC §13's "distinct-slot bookings on PostgreSQL": the statements a booking sends
(captured from the API, bench.booking_profile counts them), with the same tables, indexes and
migrations, sent by pgbench's C client with prepared statements and no application in between:
the agent's row lock (`UPDATE agents … RETURNING booking_lock_version`), the overlap read of the
agent's confirmed bookings (own UNION ALL hosted, with their types' buffers), the contact upsert,
the booking, its two events in one INSERT and its two outbox jobs in one INSERT, in one transaction.
Each transaction books a different 30-minute meeting of a random one of --agents agents (seeded as in
bench.bookings), so it also queues on the agent row locks as the API's bookings do.

bench.bookings runs this on the same cluster, interleaved with its own runs, and reports the API's
bookings/s as a share of it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.pg import ThrowawayPostgres

# pgbench variables: :agent, :slot (the start, a random minute of the next ~5,700 years: distinct
# per agent with overwhelming odds, and within the year 9999 that chosen_date's 10 characters hold),
# :client_id (pgbench's own). The overlap read covers a day either side, as the API's does. pgbench's
# extended and prepared modes turn every `:word` into a parameter, inside string literals too: the
# outbox dedupe keys are built with chr(58) for their colons.
BOOKING_TRANSACTION = r"""
\set agent random(1, {agents})
\set slot random(1, 3000000000)
BEGIN;
SELECT agents.id, agents.booking_lock_version, meeting_types.id, meeting_types.duration_minutes,
       availabilities.weekly, availabilities.buffer_before_minutes
  FROM agents
  JOIN meeting_types ON meeting_types.agent_id = agents.id AND meeting_types.name = 'Demo'
  LEFT JOIN calendar_connections ON calendar_connections.agent_id = agents.id
  LEFT JOIN availabilities ON availabilities.agent_id = agents.id
 WHERE agents.id = :agent AND agents.active IS true;
SELECT b.start_at, b.end_at, mt.buffer_before_minutes, mt.buffer_after_minutes
  FROM bookings b JOIN meeting_types mt ON mt.id = b.meeting_type_id
 WHERE b.agent_id = :agent AND b.status = 'confirmed'
   AND b.start_at > timestamptz '2030-01-01 00:00+00' + ((:slot)::bigint - 1440) * interval '1 minute'
   AND b.start_at < timestamptz '2030-01-01 00:00+00' + ((:slot)::bigint + 1440) * interval '1 minute'
   AND b.end_at > timestamptz '2030-01-01 00:00+00' + ((:slot)::bigint - 1440) * interval '1 minute' AND b.id != 0
UNION ALL
SELECT b.start_at, b.end_at, mt.buffer_before_minutes, mt.buffer_after_minutes
  FROM bookings b JOIN meeting_types mt ON mt.id = b.meeting_type_id
  JOIN booking_hosts h ON h.booking_id = b.id
 WHERE h.agent_id = :agent AND b.status = 'confirmed'
   AND b.start_at > timestamptz '2030-01-01 00:00+00' + ((:slot)::bigint - 1440) * interval '1 minute'
   AND b.start_at < timestamptz '2030-01-01 00:00+00' + ((:slot)::bigint + 1440) * interval '1 minute'
   AND b.end_at > timestamptz '2030-01-01 00:00+00' + ((:slot)::bigint - 1440) * interval '1 minute' AND b.id != 0;
UPDATE agents SET booking_lock_version = booking_lock_version + 1 WHERE id = :agent
RETURNING booking_lock_version;
INSERT INTO contacts (email, first_name, last_name, company, created_at, updated_at)
VALUES ('pgb' || :client_id::text || '-' || :slot::text || '@example.com', 'Bench', 'Booker', 'Bench Ltd', now(), now())
ON CONFLICT (email) DO UPDATE SET first_name = excluded.first_name, last_name = excluded.last_name,
  company = excluded.company,
  updated_at = CASE WHEN (excluded.first_name IS DISTINCT FROM contacts.first_name
                          OR excluded.last_name IS DISTINCT FROM contacts.last_name
                          OR excluded.company IS DISTINCT FROM contacts.company)
               THEN excluded.updated_at ELSE contacts.updated_at END
RETURNING id AS contact_id, email, first_name, last_name, company, created_at, updated_at \gset
INSERT INTO bookings (agent_id, team_id, meeting_type_id, contact_id, start_at, end_at, invitee_timezone,
  locale, first_name, last_name, company_name, email, description, status, manage_token, provider_event_id,
  idempotency_key, request_fingerprint, session_id, visitor_id, sequence, cancel_reason, cancelled_at,
  location_kind, location_value, join_url, phone, created_at, updated_at)
SELECT :agent::integer, NULL, meeting_types.id, :contact_id::integer,
  timestamptz '2030-01-01 00:00+00' + (:slot)::bigint * interval '1 minute',
  timestamptz '2030-01-01 00:00+00' + (:slot)::bigint * interval '1 minute' + interval '30 minutes',
  'Europe/Warsaw', 'en', 'Bench', 'Booker', 'Bench Ltd',
  'pgb' || :client_id::text || '-' || :slot::text || '@example.com',
  'benchmark booking', 'confirmed', md5(random()::text) || md5(random()::text), NULL, NULL,
  md5(random()::text) || md5(random()::text), NULL, NULL, 0, NULL, NULL, 'none', NULL, NULL, NULL, now(), now()
  FROM meeting_types WHERE meeting_types.agent_id = :agent AND meeting_types.name = 'Demo'
RETURNING id AS booking_id \gset
INSERT INTO events (name, attributes, occurred_at, contact_id, agent_id, team_id, meeting_type_id, booking_id,
  session_id, visitor_id, chosen_date, chosen_start)
SELECT e.name, e.attributes::json, now(), :contact_id::integer, :agent::integer, NULL, b.meeting_type_id,
  :booking_id::integer, NULL, NULL,
  to_char(b.start_at, 'YYYY-MM-DD'), b.start_at
  FROM bookings b,
  (VALUES ('calendar_4th_step_submit', '{{"first_name": "Bench", "last_name": "Booker",
             "company_name": "Bench Ltd", "email": "b@example.com", "description": "benchmark booking"}}'),
          ('booking_confirmed', '{{"booking_id": 1}}')) AS e(name, attributes)
 WHERE b.id = :booking_id
RETURNING events.id;
INSERT INTO outbox_jobs (kind, payload, status, attempts, max_attempts, next_attempt_at, dedupe_key, booking_id,
  agent_id, created_at, updated_at)
VALUES ('email.booking', '{{"booking_id": 1, "event": "created", "recipient": "agent"}}'::json, 'pending', 0, 100,
        now(), concat_ws(chr(58), 'email', 'agent', 'booking', :booking_id::text, 'created', '0'),
        :booking_id::integer, :agent::integer, now(), now()),
       ('email.booking', '{{"booking_id": 1, "event": "created", "recipient": "invitee"}}'::json, 'pending', 0, 100,
        now(), concat_ws(chr(58), 'email', 'invitee', 'booking', :booking_id::text, 'created', '0'),
        :booking_id::integer, :agent::integer, now(), now())
ON CONFLICT (dedupe_key) DO NOTHING RETURNING outbox_jobs.id;
COMMIT;
"""

_TPS = re.compile(r"tps = ([0-9.]+) \(without initial connection time\)")


def pgbench_binary() -> str:
    found = shutil.which("pgbench")
    if found is None:
        raise RuntimeError("pgbench is not installed (Debian: postgresql-contrib / postgresql-15)")
    return found


def replay_tps(url: str, *, agents: int, clients: int = 32, seconds: int = 15) -> float:
    """Transactions per second of BOOKING_TRANSACTION against the database at `url` (seeded agents
    1..`agents` with their Demo type), pgbench with `clients` clients on two threads."""
    with tempfile.TemporaryDirectory(prefix="meetings-pgbench-") as folder:
        script = Path(folder) / "booking.sql"
        script.write_text(BOOKING_TRANSACTION.format(agents=agents))
        libpq_url = url.replace("postgresql+psycopg://", "postgresql://")
        done = subprocess.run(
            [pgbench_binary(), "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(seconds)]
            + ["-f", str(script), libpq_url],
            capture_output=True,
            text=True,
            check=False,
        )
    found = _TPS.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"pgbench failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
    return float(found.group(1))


def main(argv: list[str] | None = None) -> int:
    from bench.bookings import seed  # the same agents as the API's runs

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--agents", type=int, default=20)
    args = parser.parse_args(argv)
    cluster = ThrowawayPostgres()
    cluster.start()
    rates = []
    try:
        for _ in range(args.repeat):
            url = cluster.url(cluster.create_database())
            seed(url, args.agents)
            rates.append(replay_tps(url, agents=args.agents, clients=args.clients, seconds=args.seconds))
    finally:
        cluster.stop()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print("| benchmark | result |\n|---|---|")
    runs = ", ".join(f"{rate:.0f}" for rate in rates)
    print(
        f"| pgbench replay of the booking transaction, {args.clients} clients | "
        f"{statistics.median(rates):.0f}/s (runs: {runs}) |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
