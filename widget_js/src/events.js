// What the widget tells others: the host page (a DOM CustomEvent on the element and
// window.postMessage, SPEC §10) and the funnel (step events 1–3 posted to the API, SPEC §4).
import { postEvent } from "./api.js";

/** Dispatches `payload` ({type: "meetings:<event name>", ...}) on the element and to the window. */
export function tellHost(element, payload) {
  element.dispatchEvent(new CustomEvent(payload.type, { detail: payload, bubbles: true, composed: true }));
  try {
    window.postMessage(payload, "*");
  } catch {
    // never break booking for the host
  }
}

/** Posts each step event once per booking attempt, one after another, in order. */
export class StepEvents {
  /** `pendingLoad()` gives the load the user waits for: events are posted after it. */
  constructor(pendingLoad) {
    this.pendingLoad = pendingLoad;
    this.queue = Promise.resolve();
    this.newAttempt();
  }

  newAttempt() {
    this.posted = new Set();
  }

  /** False when this step with this context was already recorded (going back and choosing the same again). */
  record(name, context, body) {
    const key = `${name}|${JSON.stringify(context)}`;
    if (this.posted.has(key)) return false;
    this.posted.add(key);
    // The step's own load starts right after this call and is read when the queue gets here:
    // analytics never slows the widget down or blocks booking.
    this.queue = this.queue
      .then(() => this.pendingLoad())
      .then(() => postEvent(body).catch(() => {}));
    return true;
  }
}
