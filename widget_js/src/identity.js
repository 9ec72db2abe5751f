// Who is booking: a visitor id that survives page views (localStorage) and fresh ids per attempt.
import { ID_PATTERN, VISITOR_KEY } from "./config.js";

export function uuid() {
  const { crypto } = window;
  if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts only; the fallback works anywhere
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 15) | 64;
  bytes[8] = (bytes[8] & 63) | 128;
  const hex = Array.from(bytes, (n) => (n + 256).toString(16).slice(1)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function storedVisitorId() {
  try {
    let id = localStorage.getItem(VISITOR_KEY);
    if (!id || !ID_PATTERN.test(id)) {
      id = uuid();
      localStorage.setItem(VISITOR_KEY, id);
    }
    return id;
  } catch {
    return uuid(); // storage blocked (privacy mode, sandboxed frame): one id per page view
  }
}

/** The host's visitor id when it is valid, else the stored one. */
export function visitorId(given) {
  if (given && !ID_PATTERN.test(given)) console.warn(`Meetings: visitorId must match ${ID_PATTERN}`);
  return given && ID_PATTERN.test(given) ? String(given) : storedVisitorId();
}
