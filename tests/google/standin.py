"""A small local stand-in for Google's OAuth 2.0 server and the Calendar v3 API.

The product's real client libraries (google-auth-oauthlib, google-auth, google-api-python-client)
talk to it over HTTP on 127.0.0.1, through GOOGLE_AUTH_URI, GOOGLE_TOKEN_URI and
GOOGLE_API_ENDPOINT. It behaves like Google where the product depends on it:

- OAuth: the consent endpoint redirects back with a single-use code; the token endpoint checks the
  client, the redirect URI and the PKCE verifier against the S256 challenge, refreshes access
  tokens, and answers `invalid_grant` for revoked refresh tokens; the revoke endpoint revokes.
- Calendar: bearer tokens and per-method scopes (taken from the bundled discovery document) are
  enforced; calendarList.list, freeBusy.query (at most 90 days a call), events.insert with a
  client-chosen base32hex id (409 when the id was ever used, even after deletion), events.get,
  events.patch, events.delete (410 on a second delete).
- Meet conferences, as Google does them: `conferenceData.createRequest` (solution `hangoutsMeet`)
  on events.insert / events.patch is honoured only with `conferenceDataVersion=1` (otherwise
  dropped silently); the same `requestId` always gets the same `hangoutLink`; a patch that does not
  name `conferenceData` keeps the conference. `meet_pending_answers = N` makes the next N answers
  show the conference as `pending` (no `hangoutLink` yet), as Google may while it creates it.
- Faults: `fail_next(endpoint, ...)` answers the next calls of an endpoint with 500/503/429/403
  rate-limit errors, optionally after doing the work (the response is lost, the effect is not).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from googleapiclient.discovery_cache import get_static_doc

EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
FREEBUSY_MAX_SPAN = timedelta(days=90)
ACCESS_TOKEN_SECONDS = 3600


def _method_scopes() -> dict[str, set[str]]:
    """Which scopes Google accepts for each Calendar method, from the discovery document."""
    document = json.loads(get_static_doc("calendar", "v3") or "{}")
    scopes: dict[str, set[str]] = {}
    for resource, body in document["resources"].items():
        for method, spec in body.get("methods", {}).items():
            scopes[f"{resource}.{method}"] = set(spec.get("scopes", []))
    return scopes


@dataclass
class Fault:
    status: int
    reason: str
    after_effect: bool = False  # do the work, then answer the error (a response lost on the way)
    retry_after: int | None = None


@dataclass
class Calendar:
    id: str
    summary: str
    primary: bool = False
    access_role: str = "owner"
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: dict[str, dict[str, Any]] = field(default_factory=dict)
    busy: list[tuple[datetime, datetime]] = field(default_factory=list)


class GoogleStandIn:
    def __init__(
        self,
        *,
        client_id: str = "standin-client-id.apps.googleusercontent.com",
        client_secret: str = "standin-client-secret-0123456789",
        account_email: str = "agent.calendar@example.com",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.account_email = account_email
        self.redirect_uris: set[str] = set()
        self.lock = threading.RLock()
        self.method_scopes = _method_scopes()
        self.calendars: dict[str, Calendar] = {
            account_email: Calendar(account_email, "Agent", primary=True),
            "team@group.calendar.google.com": Calendar("team@group.calendar.google.com", "Team", access_role="reader"),
        }
        # What the agent does on the consent screen.
        self.consent = "allow"  # or "deny"
        self.granted_scopes: list[str] | None = None  # None: everything asked for
        # Issued credentials (tokens kept in the clear here: this is "Google").
        self.codes: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        # Observations for assertions.
        self.auth_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        # Meet: requestId -> conference id (the same request always gets the same conference).
        self.conferences: dict[str, str] = {}
        self.meet_pending_answers = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> GoogleStandIn:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="google-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def auth_uri(self) -> str:
        return f"{self.base_url}/o/oauth2/auth"

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    @property
    def api_endpoint(self) -> str:
        return f"{self.base_url}/calendar/v3/"

    # --- test controls ---------------------------------------------------------------------------

    def fail_next(self, endpoint: str, *faults: int | str | Fault) -> None:
        """Answer the next calls of `endpoint` (e.g. "events.insert") with these errors, in order.

        An int is that HTTP status; "rateLimitExceeded"/"userRateLimitExceeded" is a 403 with that reason.
        """
        with self.lock:
            for fault in faults:
                if isinstance(fault, Fault):
                    self.faults[endpoint].append(fault)
                elif isinstance(fault, str):
                    self.faults[endpoint].append(Fault(403, fault))
                else:
                    reason = {429: "rateLimitExceeded", 500: "backendError", 503: "backendError"}.get(fault, "error")
                    self.faults[endpoint].append(Fault(fault, reason))

    def add_busy(self, start: datetime, end: datetime, calendar_id: str | None = None) -> None:
        with self.lock:
            self.calendars[calendar_id or self.account_email].busy.append((start, end))

    def live_events(self, calendar_id: str | None = None) -> dict[str, dict[str, Any]]:
        with self.lock:
            return dict(self.calendars[calendar_id or self.account_email].events)

    def deleted_events(self, calendar_id: str | None = None) -> dict[str, dict[str, Any]]:
        with self.lock:
            return dict(self.calendars[calendar_id or self.account_email].deleted)

    def calls_to(self, endpoint: str) -> list[dict[str, Any]]:
        with self.lock:
            return [details for name, details in self.calls if name == endpoint]

    def revoke_all_grants(self) -> None:
        """The agent removed the app's access in their Google account."""
        with self.lock:
            for grant in self.refresh_tokens.values():
                grant["revoked"] = True
            for token in self.access_tokens.values():
                token["revoked"] = True

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (as after an hour)."""
        with self.lock:
            for token in self.access_tokens.values():
                token["expires_at"] = 0.0

    def issued_secrets(self) -> list[str]:
        with self.lock:
            return [*self.access_tokens, *self.refresh_tokens, *self.codes]

    def refresh_count(self) -> int:
        with self.lock:
            return sum(1 for r in self.token_requests if r.get("grant_type") == "refresh_token")

    def _calendar(self, calendar_id: str) -> Calendar | None:
        return self.calendars.get(self.account_email if calendar_id == "primary" else calendar_id)


def _google_error(status: int, reason: str, message: str) -> dict[str, Any]:
    domain = "usageLimits" if "RateLimit" in reason or reason == "rateLimitExceeded" else "global"
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"domain": domain, "reason": reason, "message": message}],
        }
    }


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class _Handler(BaseHTTPRequestHandler):
    owner: GoogleStandIn
    server_version = "GoogleStandIn/1.0"
    query: dict[str, str] = {}  # noqa: RUF012 - set per request before the API handlers run

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        pass  # quiet: the tests assert on what matters

    # --- plumbing --------------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self._body().decode()).items()}

    def _json(self) -> dict[str, Any]:
        raw = self._body()
        return json.loads(raw) if raw else {}

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _send_fault(self, fault: Fault) -> None:
        message = {
            403: "Rate Limit Exceeded",
            429: "Too Many Requests",
            500: "Backend Error",
            503: "Service Unavailable",
        }.get(fault.status, "Error")
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        self._send(fault.status, _google_error(fault.status, fault.reason, message), headers)

    def _take_fault(self, endpoint: str) -> Fault | None:
        with self.owner.lock:
            queue = self.owner.faults.get(endpoint)
            return queue.popleft() if queue else None

    # --- routing ---------------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def do_PATCH(self) -> None:  # noqa: N802
        self._route("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._route("DELETE")

    def _route(self, verb: str) -> None:
        url = urlsplit(self.path)
        path = url.path
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if path == "/o/oauth2/auth" and verb == "GET":
            return self._authorize(query)
        if path == "/token" and verb == "POST":
            return self._token()
        if path == "/revoke" and verb == "POST":
            return self._revoke(query)
        if path.startswith("/calendar/v3/"):
            self.query = query
            return self._api(verb, path[len("/calendar/v3/") :])
        return self._send(404, {"error": "not_found"})

    # --- OAuth -----------------------------------------------------------------------------------

    def _authorize(self, query: dict[str, str]) -> None:
        owner = self.owner
        with owner.lock:
            owner.auth_requests.append(query)
        if query.get("client_id") != owner.client_id:
            return self._send(400, {"error": "invalid_client"})
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in owner.redirect_uris:
            return self._send(400, {"error": "redirect_uri_mismatch"})
        if query.get("response_type") != "code":
            return self._send(400, {"error": "unsupported_response_type"})
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return self._send(400, {"error": "invalid_request", "error_description": "PKCE S256 required"})
        state = query.get("state", "")
        if owner.consent == "deny":
            denied = urlencode({"error": "access_denied", "state": state})
            return self._send(302, headers={"Location": f"{redirect_uri}?{denied}"})
        asked = query.get("scope", "").split()
        granted = owner.granted_scopes if owner.granted_scopes is not None else asked
        code = "4/standin-code-" + secrets.token_urlsafe(16)
        with owner.lock:
            owner.codes[code] = {
                "challenge": query["code_challenge"],
                "redirect_uri": redirect_uri,
                "scopes": granted,
                "used": False,
            }
        location = f"{redirect_uri}?{urlencode({'state': state, 'code': code, 'scope': ' '.join(granted)})}"
        return self._send(302, headers={"Location": location})

    def _client_ok(self, form: dict[str, str]) -> bool:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        authorization = self.headers.get("Authorization", "")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            basic_id, _, basic_secret = decoded.partition(":")
            client_id, client_secret = unquote(basic_id), unquote(basic_secret)
        return client_id == self.owner.client_id and client_secret == self.owner.client_secret

    def _issue_access_token(self, refresh_token: str, scopes: list[str]) -> dict[str, Any]:
        access_token = "ya29.standin-access-" + secrets.token_urlsafe(24)
        self.owner.access_tokens[access_token] = {
            "refresh_token": refresh_token,
            "scopes": scopes,
            "expires_at": time.time() + ACCESS_TOKEN_SECONDS,
            "revoked": False,
        }
        return {
            "access_token": access_token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "token_type": "Bearer",
            "scope": " ".join(scopes),
        }

    def _token(self) -> None:
        owner = self.owner
        form = self._form()
        with owner.lock:
            owner.token_requests.append({k: v for k, v in form.items() if k in ("grant_type", "redirect_uri")})
        fault = self._take_fault("token")
        if fault is not None:
            return self._send(fault.status, {"error": "internal_failure"})
        if not self._client_ok(form):
            return self._send(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        grant_type = form.get("grant_type")
        with owner.lock:
            if grant_type == "authorization_code":
                grant = owner.codes.get(form.get("code", ""))
                if grant is None or grant["used"]:
                    return self._send(400, {"error": "invalid_grant", "error_description": "Malformed auth code."})
                grant["used"] = True
                if form.get("redirect_uri") != grant["redirect_uri"]:
                    return self._send(400, {"error": "redirect_uri_mismatch", "error_description": "Bad Request"})
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
                if not verifier or challenge != grant["challenge"]:
                    grant["pkce_failed"] = True
                    return self._send(400, {"error": "invalid_grant", "error_description": "Invalid code verifier."})
                grant["pkce_verified"] = True
                refresh_token = "1//standin-refresh-" + secrets.token_urlsafe(24)
                owner.refresh_tokens[refresh_token] = {"scopes": grant["scopes"], "revoked": False}
                answer = self._issue_access_token(refresh_token, grant["scopes"])
                return self._send(200, {**answer, "refresh_token": refresh_token})
            if grant_type == "refresh_token":
                refresh_token = form.get("refresh_token", "")
                grant = owner.refresh_tokens.get(refresh_token)
                if grant is None or grant["revoked"]:
                    return self._send(
                        400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
                    )
                return self._send(200, self._issue_access_token(refresh_token, grant["scopes"]))
        return self._send(400, {"error": "unsupported_grant_type"})

    def _revoke(self, query: dict[str, str]) -> None:
        owner = self.owner
        token = self._form().get("token") or query.get("token", "")
        with owner.lock:
            owner.calls.append(("revoke", {}))
            if token in owner.refresh_tokens:
                owner.refresh_tokens[token]["revoked"] = True
                for access in owner.access_tokens.values():
                    if access["refresh_token"] == token:
                        access["revoked"] = True
                return self._send(200, {})
            if token in owner.access_tokens:
                owner.access_tokens[token]["revoked"] = True
                return self._send(200, {})
        return self._send(400, {"error": "invalid_token", "error_description": "Token expired or revoked"})

    # --- Calendar v3 -----------------------------------------------------------------------------

    def _api(self, verb: str, rest: str) -> None:
        parts = [unquote(p) for p in rest.split("/")]
        if verb == "GET" and parts == ["users", "me", "calendarList"]:
            endpoint = "calendarList.list"
        elif verb == "POST" and parts == ["freeBusy"]:
            endpoint = "freebusy.query"
        elif len(parts) == 3 and parts[0] == "calendars" and parts[2] == "events" and verb == "POST":
            endpoint = "events.insert"
        elif len(parts) == 4 and parts[0] == "calendars" and parts[2] == "events":
            endpoint = {"GET": "events.get", "PATCH": "events.patch", "DELETE": "events.delete"}.get(verb, "")
        else:
            endpoint = ""
        if not endpoint:
            return self._send(404, _google_error(404, "notFound", "Not Found"))
        body = self._json() if verb in ("POST", "PATCH") else {}

        owner = self.owner
        authorization = self.headers.get("Authorization", "")
        with owner.lock:
            token = owner.access_tokens.get(authorization.removeprefix("Bearer "))
            if token is None or token["revoked"] or token["expires_at"] < time.time():
                owner.calls.append((endpoint + ":unauthenticated", {}))
                return self._send(401, _google_error(401, "authError", "Invalid Credentials"))
            if not set(token["scopes"]) & owner.method_scopes[endpoint]:
                return self._send(403, _google_error(403, "insufficientPermissions", "Insufficient Permission"))
            owner.calls.append((endpoint, {"parts": parts, "body": body, "query": dict(self.query)}))
        fault = self._take_fault(endpoint)
        if fault is not None and not fault.after_effect:
            return self._send_fault(fault)
        with owner.lock:
            status, answer = getattr(self, "_" + endpoint.replace(".", "_"))(parts, body)
        if fault is not None:
            return self._send_fault(fault)
        return self._send(status, answer)

    def _calendarList_list(self, _parts: list[str], _body: dict[str, Any]) -> tuple[int, Any]:  # noqa: N802
        items = [
            {"id": c.id, "summary": c.summary, "accessRole": c.access_role, **({"primary": True} if c.primary else {})}
            for c in self.owner.calendars.values()
        ]
        return 200, {"kind": "calendar#calendarList", "items": items}

    def _freebusy_query(self, _parts: list[str], body: dict[str, Any]) -> tuple[int, Any]:
        start, end = _parse_time(body["timeMin"]), _parse_time(body["timeMax"])
        if end - start > FREEBUSY_MAX_SPAN:
            return 400, _google_error(400, "timeRangeEmpty", "The requested time range is too long.")
        calendars: dict[str, Any] = {}
        for item in body.get("items", []):
            calendar = self.owner._calendar(item["id"])
            if calendar is None:
                calendars[item["id"]] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                continue
            blocks = list(calendar.busy) + [
                (_parse_time(e["start"]["dateTime"]), _parse_time(e["end"]["dateTime"]))
                for e in calendar.events.values()
            ]
            calendars[item["id"]] = {
                "busy": [
                    {"start": _rfc3339(b_start), "end": _rfc3339(b_end)}
                    for b_start, b_end in sorted(blocks)
                    if b_start < end and b_end > start
                ]
            }
        return 200, {
            "kind": "calendar#freeBusy",
            "timeMin": body["timeMin"],
            "timeMax": body["timeMax"],
            "calendars": calendars,
        }

    def _events_insert(self, parts: list[str], body: dict[str, Any]) -> tuple[int, Any]:
        calendar = self.owner._calendar(parts[1])
        if calendar is None:
            return 404, _google_error(404, "notFound", "Not Found")
        event_id = body.get("id") or secrets.token_hex(16)
        if not EVENT_ID.match(event_id):
            return 400, _google_error(400, "invalid", "Invalid resource id value.")
        if event_id in calendar.events or event_id in calendar.deleted:
            return 409, _google_error(409, "duplicate", "The requested identifier already exists.")
        if "start" not in body or "end" not in body:
            return 400, _google_error(400, "required", "Missing end time.")
        event = {**body, "id": event_id, "status": "confirmed", "kind": "calendar#event", "sequence": 0}
        event.pop("conferenceData", None)
        event.pop("hangoutLink", None)
        self._apply_conference(event, body)
        calendar.events[event_id] = event
        return 200, self._as_answered(event)

    def _apply_conference(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """Google's rule: conferenceData in the body counts only with conferenceDataVersion=1."""
        if "conferenceData" not in body or self.query.get("conferenceDataVersion") != "1":
            return
        request = (body.get("conferenceData") or {}).get("createRequest") or {}
        request_id = request.get("requestId")
        if not request_id or (request.get("conferenceSolutionKey") or {}).get("type") != "hangoutsMeet":
            return
        owner = self.owner
        if request_id not in owner.conferences:
            digest = hashlib.sha256(f"meet:{request_id}".encode()).hexdigest()
            letters = "".join(chr(ord("a") + int(ch, 16) % 26) for ch in digest[:10])
            owner.conferences[request_id] = f"{letters[:3]}-{letters[3:7]}-{letters[7:10]}"
        conference_id = owner.conferences[request_id]
        event["hangoutLink"] = f"https://meet.google.com/{conference_id}"
        event["conferenceData"] = {
            "createRequest": {**request, "status": {"statusCode": "success"}},
            "conferenceId": conference_id,
            "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
            "entryPoints": [
                {"entryPointType": "video", "uri": event["hangoutLink"], "label": f"meet.google.com/{conference_id}"}
            ],
        }

    def _as_answered(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event as this answer shows it: while `meet_pending_answers` lasts, a conference is
        still `pending` (no link yet)."""
        owner = self.owner
        if "conferenceData" in event and owner.meet_pending_answers > 0:
            owner.meet_pending_answers -= 1
            shown = {k: v for k, v in event.items() if k != "hangoutLink"}
            request = event["conferenceData"]["createRequest"]
            shown["conferenceData"] = {"createRequest": {**request, "status": {"statusCode": "pending"}}}
            return shown
        return event

    def _events_get(self, parts: list[str], _body: dict[str, Any]) -> tuple[int, Any]:
        calendar = self.owner._calendar(parts[1])
        if calendar is not None and parts[3] in calendar.events:
            return 200, self._as_answered(calendar.events[parts[3]])
        if calendar is not None and parts[3] in calendar.deleted:
            return 200, {**calendar.deleted[parts[3]], "status": "cancelled"}
        return 404, _google_error(404, "notFound", "Not Found")

    def _events_patch(self, parts: list[str], body: dict[str, Any]) -> tuple[int, Any]:
        calendar = self.owner._calendar(parts[1])
        if calendar is not None and parts[3] in calendar.deleted:
            return 410, _google_error(410, "deleted", "Resource has been deleted")
        if calendar is None or parts[3] not in calendar.events:
            return 404, _google_error(404, "notFound", "Not Found")
        event = calendar.events[parts[3]]
        event.update({k: v for k, v in body.items() if k not in ("id", "conferenceData", "hangoutLink")})
        self._apply_conference(event, body)
        event["sequence"] = int(event.get("sequence", 0)) + 1
        return 200, self._as_answered(event)

    def _events_delete(self, parts: list[str], _body: dict[str, Any]) -> tuple[int, Any]:
        calendar = self.owner._calendar(parts[1])
        if calendar is not None and parts[3] in calendar.deleted:
            return 410, _google_error(410, "deleted", "Resource has been deleted")
        if calendar is None or parts[3] not in calendar.events:
            return 404, _google_error(404, "notFound", "Not Found")
        calendar.deleted[parts[3]] = calendar.events.pop(parts[3])
        return 204, None
