import { Widget } from "../widget.js";

/** Meetings.mount(element or selector, {link, visitorId, prefill, timezone, locale}) → the widget. */
export function mount(element, options) {
  const target = typeof element === "string" ? document.querySelector(element) : element;
  if (!target) throw new Error("Meetings.mount: element not found");
  target.meetingsWidget = new Widget(target, options || {});
  return target.meetingsWidget;
}
