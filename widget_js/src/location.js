// Where the call happens (SPEC §14): the public link answer gives each meeting type
// `location: {kind, asks_phone?, host?}`, the booking answer `location: {kind, value, join_url}`.
import { LINK_SERVICES } from "./config.js";
import { fill } from "./strings/index.js";

/** True when the form must ask for the invitee's phone (a `phone` type without the agent's number). */
export const asksPhone = (type) => Boolean(type?.location?.kind === "phone" && type.location.asks_phone);

/** "zoom.us" or "us02web.zoom.us" → "Zoom"; unknown hosts → null. */
function serviceOf(host) {
  const name = String(host || "").toLowerCase();
  const known = Object.keys(LINK_SERVICES).find((domain) => name === domain || name.endsWith(`.${domain}`));
  return known ? LINK_SERVICES[known] : null;
}

/** A link's host: given before booking (`host`), read from the URL once booked (`value`). */
function hostOf(location) {
  if (location.host) return location.host;
  try {
    return safeUrl(location.value) ? new URL(location.value).hostname : "";
  } catch {
    return "";
  }
}

/** "Google Meet", "Phone call", "Zoom link" / "Video link", "In person"; null for `none` or unknown kinds. */
export function kindLabel(t, location) {
  const kind = location?.kind;
  if (kind === "google_meet") return t.kMeet;
  if (kind === "phone") return t.kPhone;
  if (kind === "in_person") return t.kPlace;
  if (kind === "link") {
    const service = serviceOf(hostOf(location));
    return service ? fill(t.kLinkOn, { name: service }) : t.kLink;
  }
  return null;
}

/** Only https links become a "Join" link (never a javascript: or http URL from stored data). */
export const safeUrl = (url) => (typeof url === "string" && /^https:\/\//i.test(url) ? url : null);
