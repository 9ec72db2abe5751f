// Step 2: a month calendar; days without a free slot are disabled.
import { h } from "../dom.js";
import { daysInMonth, pad, utcDate } from "../dates.js";

/**
 * month "YYYY-MM", free ["YYYY-MM-DD"], chosen date or null, first/last month that can be shown.
 * on: {choose(date), prefetch(date), move(delta)}
 */
export function calendarView({ t, fmt, month, free, chosen, earliest, latest }, on) {
  const first = utcDate(month);
  const cells = [];
  for (let i = 0; i < 7; i++) cells.push(h("div", { cls: "weekday", "aria-hidden": "true", text: fmt.weekday(i) }));
  for (let i = 0; i < (first.getUTCDay() + 6) % 7; i++) cells.push(h("div")); // weeks start on Monday
  for (let day = 1; day <= daysInMonth(first); day++) {
    const iso = `${month}-${pad(day)}`;
    const open = free.includes(iso);
    cells.push(
      h("button", {
        type: "button",
        "data-date": iso,
        "data-k": `d${iso}`,
        disabled: !open,
        "aria-label": fmt.day(iso),
        "aria-pressed": open ? String(iso === chosen) : null,
        text: String(day),
        onclick: () => on.choose(iso),
        onpointerdown: () => on.prefetch(iso),
      }),
    );
  }
  return [
    h("div", { cls: "month-nav" }, [
      h("button", {
        type: "button",
        "data-k": "prev",
        "aria-label": t.prev,
        disabled: month <= earliest,
        text: "‹",
        onclick: () => on.move(-1),
      }),
      h("h3", { id: "m", "aria-live": "polite", text: fmt.month(first) }),
      h("button", {
        type: "button",
        "data-k": "next",
        "aria-label": t.next,
        disabled: month >= latest,
        text: "›",
        onclick: () => on.move(1),
      }),
    ]),
    h("div", { cls: "calendar", role: "group", "aria-labelledby": "m" }, cells),
    !free.length && h("p", { role: "status", text: t.noDays }),
  ];
}
