// The widget's frame in its shadow root: a header (agent, what was chosen so far), a live status
// for screen readers, and the current step. Steps are drawn by the functions in this folder.
import { h } from "../dom.js";
import { adoptStyles } from "../styles.js";

function openShadowRoot(host) {
  try {
    return host.shadowRoot || host.attachShadow({ mode: "open" });
  } catch {
    return host.appendChild(h("div")).attachShadow({ mode: "open" }); // e.g. <a> cannot host a shadow root
  }
}

export class Frame {
  constructor(host, { t, locale }) {
    this.t = t;
    this.current = null; // the step on screen: "types", "calendar", "slots", "form", "done", "error"
    const root = openShadowRoot(host);
    root.textContent = "";
    adoptStyles(root);
    this.header = h("div", { cls: "header" });
    this.status = h("div", { cls: "visually-hidden", role: "status", "aria-live": "polite" });
    this.body = h("div", { cls: "step" });
    root.append(
      h("div", { cls: "widget", role: "region", "aria-label": t.title, lang: locale }, [this.header, this.status, this.body]),
    );
  }

  setBusy(busy) {
    this.body.querySelector(".spinner")?.remove();
    this.body.setAttribute("aria-busy", String(busy));
    if (busy) {
      this.body.append(h("div", { cls: "spinner" }, [h("span", { cls: "spinner-ring" }), h("span", { text: this.t.loading })]));
    }
  }

  /** Read out by screen readers without moving focus. */
  say(text) {
    this.status.textContent = text;
  }

  showSummary(agentName, bits) {
    this.header.replaceChildren(h("div", { cls: "agent", text: agentName }), h("div", { cls: "summary", text: bits.join(" · ") }));
  }

  /**
   * Replaces the step content. With `moveFocus`, focus goes to the new step's heading, or back to
   * the control the user was on when the same step is drawn again (month change, time zone change).
   */
  render(step, title, children, { back, moveFocus }) {
    const active = this.body.getRootNode().activeElement;
    const key = active && active.getAttribute("data-k");
    const same = step === this.current;
    this.current = step;
    const heading = h("h2", { tabindex: "-1", text: title });
    this.body.textContent = "";
    this.body.setAttribute("aria-busy", "false");
    if (back) {
      this.body.append(h("button", { cls: "back", type: "button", "data-k": "back", text: `← ${this.t.back}`, onclick: back }));
    }
    this.body.append(heading);
    for (const child of children) if (child) this.body.append(child);
    if (!moveFocus) return;
    const again = same && key && this.body.querySelector(`[data-k="${key}"]:not(:disabled)`);
    (again || heading).focus();
  }

  find(selector) {
    return this.body.querySelector(selector);
  }
}
