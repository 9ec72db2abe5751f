// The confirmation: what was booked, add-to-calendar and manage links.
import { h } from "../dom.js";
import { zoneLabel } from "../dates.js";
import { fill } from "../strings/index.js";

/** on: {again()} */
export function doneView({ t, fmt, typeName, date, timeZone, booking, email }, on) {
  const time = `${fmt.time(booking.start, timeZone)}–${fmt.time(booking.end, timeZone)}`;
  return [
    h("p", { text: `${typeName} · ${fill(t.at, { date: fmt.day(date), time })} (${zoneLabel(timeZone)})` }),
    h("p", { text: fill(t.sent, { email }) }),
    h("a", { cls: "primary", href: booking.ics_url, download: "meeting.ics", "data-k": "ics", text: t.ics }),
    h("a", {
      cls: "secondary",
      href: booking.manage_url,
      target: "_blank",
      rel: "noopener",
      "data-k": "manage",
      text: t.manage,
    }),
    h("button", { cls: "secondary", type: "button", "data-k": "again", text: t.again, onclick: on.again }),
  ];
}
