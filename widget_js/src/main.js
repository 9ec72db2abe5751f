/*
 * Meetings booking widget: the entry point the build bundles into widget_js/widget.js.
 *
 * <script src="{BASE}/widget.js" async></script>
 *   <meetings-booking link="…"></meetings-booking>        a custom element (open shadow root)
 *   Meetings.mount(element, {link, visitorId, prefill, timezone, locale})
 *   <div data-meetings-chat> … <a href="{BASE}/b/{link}"> … </div>   chat unfurl, also for later messages
 *
 * Layout: config.js (constants), strings/ (every user-visible string, one dictionary per language),
 * styles.css, api.js (network), events.js (host events, step events), widget.js (state and steps),
 * views/ (drawing each step), embed/ (mount, the custom element, chat unfurl).
 */
import { BASE, VERSION } from "./config.js";
import { defineElement } from "./embed/element.js";
import { mount } from "./embed/mount.js";
import { watchChats } from "./embed/unfurl.js";
import { STRINGS } from "./strings/index.js";

const existing = window.Meetings;

// Included twice: the first copy stays.
if (!existing?.version) {
  defineElement();
  watchChats();
  // Calls made before this async script arrived were queued by the snippet: replay them.
  const queued = existing?.q || [];
  window.Meetings = { version: VERSION, base: BASE, mount, strings: STRINGS };
  for (const args of queued) mount(...args);
}
