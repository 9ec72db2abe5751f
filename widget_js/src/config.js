// Constants every part of the widget shares: where the API is, what an id looks like, the form's fields.

export const VERSION = "1.0.0";

// The API base is where this script was loaded from, so the widget works embedded on any origin.
// Read while the script runs: document.currentScript is only set then.
const script = document.currentScript || document.querySelector('script[src*="/widget.js"]');
export const BASE = script ? script.src.replace(/[?#].*$/, "").replace(/\/[^/]*$/, "") : location.origin;

/** A visitor id given by the host must look like this (the API's own rule). */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;
export const VISITOR_KEY = "meetings_visitor_id";

/** The booking form's fields, in order; the names are the API's (SPEC §10 markup hooks). */
export const FIELDS = ["first_name", "last_name", "company_name", "email", "description"];
/** The form of a `phone` type whose location has no number (the agent calls): the invitee's phone too. */
export const PHONE_FIELDS = ["first_name", "last_name", "company_name", "email", "phone", "description"];
export const OPTIONAL_FIELDS = ["company_name", "description"];
/** Longest value per field, in code points, as the server counts. */
export const LIMITS = { first_name: 100, last_name: 100, company_name: 100, email: 320, phone: 32, description: 2000 };
export const AUTOCOMPLETE = {
  first_name: "given-name",
  last_name: "family-name",
  company_name: "organization",
  email: "email",
  phone: "tel",
};
export const INPUT_TYPES = { email: "email", phone: "tel" };
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
/** The server's phone rule (SPEC §14): digits, spaces, + - ( ); the length is checked with LIMITS. */
export const PHONE_PATTERN = /^[\d +()-]*\d[\d +()-]*$/;

/** Video services named after a `link` location's host (the public answer's optional `host`). */
export const LINK_SERVICES = {
  "zoom.us": "Zoom",
  "teams.microsoft.com": "Microsoft Teams",
  "teams.live.com": "Microsoft Teams",
  "webex.com": "Webex",
  "whereby.com": "Whereby",
  "meet.jit.si": "Jitsi Meet",
};

/** Days and slots fetched less than this long ago are reused (a hover's prefetch serves the click). */
export const REUSE_ANSWERS_MS = 15_000;
export const REQUEST_TIMEOUT_MS = 20_000;
/** A Google Meet link is made with the calendar event, moments after the booking: asked for this
 * often, for about a minute, on the confirmation step (the email brings it in any case). */
export const JOIN_POLL_MS = 3_000;
export const JOIN_POLL_TRIES = 20;
