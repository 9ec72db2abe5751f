// <meetings-booking link="…" visitor-id="…" timezone="…" locale="…"></meetings-booking>
// (lang="…" works as locale too). Changing link or locale draws the widget afresh.
import { mount } from "./mount.js";

const options = (element) => ({
  link: element.getAttribute("link"),
  visitorId: element.getAttribute("visitor-id"),
  timezone: element.getAttribute("timezone"),
  locale: element.getAttribute("locale") || element.getAttribute("lang"),
});

class MeetingsBooking extends HTMLElement {
  static get observedAttributes() {
    return ["link", "locale", "lang"];
  }

  connectedCallback() {
    if (!this.meetingsWidget && this.getAttribute("link")) mount(this, options(this));
  }

  attributeChangedCallback(_name, before, after) {
    if (this.meetingsWidget && before !== after && this.getAttribute("link")) mount(this, options(this));
  }
}

export function defineElement() {
  if (window.customElements && !customElements.get("meetings-booking")) {
    customElements.define("meetings-booking", MeetingsBooking);
  }
}
