// Calendar arithmetic on "YYYY-MM-DD" / "YYYY-MM" strings (UTC dates, so no DST surprises) and
// formatting for the widget's locale.

export const pad = (n) => String(n).padStart(2, "0");

/** Today's date where the invitee is, "YYYY-MM-DD". */
export function todayIn(timeZone) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
  for (const part of format.formatToParts(new Date())) parts[part.type] = part.value;
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** "2024-05-17" or "2024-05" as a UTC midnight Date (the 1st for a month). */
export const utcDate = (iso) => new Date(Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +(iso.slice(8, 10) || 1)));

/** "2024-11" moved by `delta` months. */
export function addMonths(month, delta) {
  const date = utcDate(month);
  date.setUTCMonth(date.getUTCMonth() + delta);
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}`;
}

export const daysInMonth = (first) => new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();

/** Dates and times in one locale; each Intl formatter is built once. */
export class Formatter {
  constructor(locale) {
    this.locale = locale;
    this.formats = new Map();
  }

  format(options, date) {
    const key = JSON.stringify(options);
    if (!this.formats.has(key)) this.formats.set(key, new Intl.DateTimeFormat(this.locale, options));
    return this.formats.get(key).format(date);
  }

  /** "Friday, 17 May" for "2024-05-17". */
  day(iso) {
    return this.format({ weekday: "long", day: "numeric", month: "long", timeZone: "UTC" }, utcDate(iso));
  }

  /** "3:30 PM" for an ISO start, in the given time zone. */
  time(start, timeZone) {
    return this.format({ hour: "numeric", minute: "2-digit", timeZone }, new Date(start));
  }

  /** "Ola, James and Priya": names joined the language's way. */
  names(list) {
    return new Intl.ListFormat(this.locale, { type: "conjunction" }).format(list);
  }

  /** "May 2024" for the month's first day. */
  month(first) {
    return this.format({ month: "long", year: "numeric", timeZone: "UTC" }, first);
  }

  /** "Mon" … "Sun" for 0 … 6 (1 January 2024 was a Monday). */
  weekday(index) {
    return this.format({ weekday: "short", timeZone: "UTC" }, new Date(Date.UTC(2024, 0, 1 + index)));
  }
}

/** The zone's canonical name when the browser knows it, otherwise null. */
export function validZone(timeZone) {
  try {
    return timeZone && new Intl.DateTimeFormat("en", { timeZone }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** "Europe/Isle_of_Man" → "Europe/Isle of Man". */
export const zoneLabel = (timeZone) => timeZone.replace(/_/g, " ");
