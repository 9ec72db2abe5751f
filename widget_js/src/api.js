// The network: every request the widget makes to the public widget API (SPEC §6).
import { BASE, REQUEST_TIMEOUT_MS, REUSE_ANSWERS_MS } from "./config.js";

/** An answer with an error status; `data` is its JSON body ({detail}) when it had one. */
export class ApiError extends Error {
  constructor(status, data = null) {
    super(`HTTP ${status}`);
    this.status = status;
    this.data = data;
  }
}

/** JSON in, JSON out. A network failure or timeout rejects with an error without `status`. */
export async function request(method, path, { body, headers } = {}) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  const init = {
    method,
    headers: { Accept: "application/json", ...headers },
    credentials: "omit",
    signal: abort.signal,
  };
  if (body) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    const response = await fetch(BASE + path, init);
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep null
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  } finally {
    clearTimeout(timer);
  }
}

const query = (params) =>
  Object.entries(params)
    .map(([key, value]) => `${key}=${encodeURIComponent(value)}`)
    .join("&");

/** A booking by its manage token: {status, location: {kind, value, join_url}, …}. */
export const getBooking = (manageToken) => request("GET", `/api/v1/bookings/${encodeURIComponent(manageToken)}`);

/** Step events 1–3 (SPEC §4). */
export const postEvent = (body) => request("POST", "/api/v1/events", { body });

/** The API of one booking link. */
export class LinkApi {
  constructor(link) {
    this.path = `/api/v1/links/${encodeURIComponent(link)}`;
    this.recent = new Map();
  }

  /** {agent, meeting_types} */
  info() {
    return request("GET", this.path);
  }

  /** {timezone, days}; params: meeting_type_id, month, tz. */
  days(params) {
    return this.reused("days", params);
  }

  /** {timezone, slots}; params: meeting_type_id, date, tz. */
  slots(params) {
    return this.reused("slots", params);
  }

  /** A request started early (pointer down, hover, focus) is reused by the click that follows;
   * answers older than REUSE_ANSWERS_MS are fetched again, so the hours shown stay fresh. */
  reused(what, params) {
    const path = `${this.path}/${what}?${query(params)}`;
    const hit = this.recent.get(path);
    const now = Date.now();
    if (hit && now - hit.at < REUSE_ANSWERS_MS) return hit.promise;
    const promise = request("GET", path);
    this.recent.set(path, { promise, at: now });
    promise.catch(() => {
      if (this.recent.get(path)?.promise === promise) this.recent.delete(path);
    });
    return promise;
  }

  /** Forget reused answers (after a slot was taken, everything is fetched fresh). */
  forget() {
    this.recent.clear();
  }

  /** 201 {id, start, end, manage_url, ics_url}; the key makes a retried submit one booking. */
  book(payload, idempotencyKey) {
    return request("POST", `${this.path}/bookings`, {
      body: payload,
      headers: { "Idempotency-Key": idempotencyKey },
    });
  }
}
