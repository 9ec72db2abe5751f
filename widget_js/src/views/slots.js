// Step 3: the day's hours in the invitee's time zone, with a time zone selector.
import { h } from "../dom.js";
import { zoneLabel } from "../dates.js";

function zoneSelect(timeZone, onChange) {
  const option = (zone) => h("option", { value: zone, selected: zone === timeZone, text: zoneLabel(zone) });
  // Some 400 zones cost tens of milliseconds to lay out: the list is filled when the browser is
  // idle after the hours are on screen, or at once when the visitor reaches for the selector.
  const fillZones = () => {
    if (select.options.length > 1) return;
    let zones = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
    if (!zones.includes(timeZone)) zones = [timeZone, ...zones];
    select.replaceChildren(...zones.map(option));
  };
  const select = h(
    "select",
    { id: "tz", "data-k": "tz", onfocus: fillZones, onpointerdown: fillZones, onchange: () => onChange(select.value) },
    [option(timeZone)],
  );
  if (window.requestIdleCallback) requestIdleCallback(fillZones, { timeout: 1000 });
  else setTimeout(fillZones, 200);
  return select;
}

/** on: {changeZone(zone), choose(start), confirm()} */
export function slotsView({ t, fmt, date, timeZone, slots, chosen, notice }, on) {
  const hour = (slot) =>
    h("li", {}, [
      h("button", {
        type: "button",
        "data-start": slot.start,
        "data-k": `s${slot.start}`,
        "aria-pressed": String(slot.start === chosen),
        text: fmt.time(slot.start, timeZone),
        onclick: () => on.choose(slot.start),
      }),
    ]);
  return [
    h("p", { text: fmt.day(date) }),
    h("label", { for: "tz", text: t.tz }),
    zoneSelect(timeZone, on.changeZone),
    notice && h("p", { cls: "alert", role: "alert", text: notice }),
    slots.length
      ? h("ul", { cls: "slots", "aria-label": t.time }, slots.map(hour))
      : h("p", { role: "status", text: t.noSlots }),
    h("button", {
      cls: "primary",
      type: "button",
      "data-k": "continue",
      disabled: !chosen,
      text: t.cont,
      onclick: on.confirm,
    }),
  ];
}

/** Marks the chosen hour without drawing the step again (focus stays where it is). */
export function markChosenSlot(body, start) {
  for (const button of body.querySelectorAll("[data-start]")) {
    button.setAttribute("aria-pressed", String(button.getAttribute("data-start") === start));
  }
  body.querySelector('[data-k="continue"]').disabled = false;
}
