// The confirmation: what was booked, where the call happens, add-to-calendar and manage links.
import { h } from "../dom.js";
import { zoneLabel } from "../dates.js";
import { kindLabel, safeUrl } from "../location.js";
import { fill } from "../strings/index.js";

/** How to join, from the booking answer's `location: {kind, value, join_url}` (SPEC §14). */
function joinDetails(t, location, phone) {
  const kind = location?.kind;
  const url = safeUrl(location?.join_url) || (kind === "link" ? safeUrl(location.value) : null);
  let text = null;
  if (kind === "google_meet" && !url) text = t.meetLater;
  else if (kind === "phone") text = location.value ? fill(t.callUs, { phone: location.value }) : phone && fill(t.weCall, { phone });
  else if (kind === "in_person" && location.value) text = fill(t.address, { place: location.value });
  const label = kindLabel(t, location);
  if (!label) return [];
  return [
    h("p", { cls: "where", "data-k": "where", "data-location-kind": kind }, [h("b", { text: label }), text && h("br"), text]),
    url && h("a", { cls: "primary", href: url, target: "_blank", rel: "noopener", "data-k": "join", text: t.join }),
  ];
}

/** on: {again()} */
export function doneView({ t, fmt, typeName, date, timeZone, booking, email, phone, hosts }, on) {
  const time = `${fmt.time(booking.start, timeZone)}–${fmt.time(booking.end, timeZone)}`;
  return [
    h("p", { text: `${typeName} · ${fill(t.at, { date: fmt.day(date), time })} (${zoneLabel(timeZone)})` }),
    hosts.length ? h("p", { cls: "host", "data-k": "host", text: fill(t.host, { names: fmt.names(hosts) }) }) : null,
    ...joinDetails(t, booking.location, phone),
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
