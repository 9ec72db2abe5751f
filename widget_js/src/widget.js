// One booking widget: its state and the steps between (SPEC §10). What a step looks like is in
// ./views/, what goes over the network in ./api.js, what the host and the funnel hear in ./events.js.
import { ApiError, getBooking, LinkApi } from "./api.js";
import { FIELDS, JOIN_POLL_MS, JOIN_POLL_TRIES, PHONE_FIELDS } from "./config.js";
import { addMonths, Formatter, todayIn, validZone } from "./dates.js";
import { StepEvents, tellHost } from "./events.js";
import { uuid, visitorId } from "./identity.js";
import { asksPhone } from "./location.js";
import { dictionaryFor, fill, languageOf, pickLocale } from "./strings/index.js";
import { serverFieldErrors, validate } from "./validation.js";
import { calendarView } from "./views/calendar.js";
import { doneView } from "./views/done.js";
import { errorView } from "./views/error.js";
import { formFocusTarget, formView, showSending } from "./views/form.js";
import { Frame } from "./views/frame.js";
import { markChosenSlot, slotsView } from "./views/slots.js";
import { typesView } from "./views/types.js";

const NEXT_MONTHS_SHOWN = 12;
const EMPTY_MONTHS_SKIPPED = 2; // on first open, skip ahead over up to two months without free days

export class Widget {
  constructor(host, options) {
    this.host = host;
    this.link = String(options.link || "");
    this.locale = pickLocale(options.locale);
    this.t = dictionaryFor(this.locale);
    this.fmt = new Formatter(this.locale);
    this.api = new LinkApi(this.link);
    this.monthDays = new Map(); // "type|month|tz" → {days}, kept until a slot turns out taken
    this.loadTicket = 0;
    this.inflight = null; // the load the user waits for; step events are posted after it
    this.interacted = false; // focus moves only once the user has done something
    this.steps = new StepEvents(() => this.inflight);
    this.frame = new Frame(host, { t: this.t, locale: this.locale });
    this.loadLink();

    // After the first request is on its way: the first time-zone-aware Intl call loads ICU's zone
    // data (tens of milliseconds), which now overlaps the network instead of delaying it.
    this.tz = validZone(options.timezone) || validZone(Intl.DateTimeFormat().resolvedOptions().timeZone) || "UTC";
    this.visitor = visitorId(options.visitorId);
    const prefill = options.prefill || {};
    this.values = Object.fromEntries(PHONE_FIELDS.map((name) => [name, String(prefill[name] || "")]));
    this.newAttempt();
  }

  newAttempt() {
    this.session = uuid();
    this.steps.newAttempt();
    this.pending = null; // {payload, key}: the submit in flight or to retry, with its Idempotency-Key
  }

  // ---- plumbing ----------------------------------------------------------------------------

  /** Wraps a handler of something the user did: from then on focus follows the steps. */
  act(handler) {
    return (...args) => {
      this.interacted = true;
      handler.apply(this, args);
    };
  }

  /** Shows the spinner and ignores answers to requests a newer one has replaced (fast clicking). */
  load(promise, onData, onError) {
    const ticket = ++this.loadTicket;
    this.inflight = promise.catch(() => {});
    this.frame.setBusy(true);
    promise.then(
      (data) => {
        if (ticket !== this.loadTicket) return;
        this.frame.setBusy(false);
        onData(data);
      },
      (error) => {
        if (ticket !== this.loadTicket) return;
        this.frame.setBusy(false);
        onError(error);
      },
    );
  }

  render(step, title, children, back) {
    // Back and retry are called without the click event: loadSlots(notice) would take it for a notice.
    this.frame.render(step, title, children, { back: back && this.act(() => back.call(this)), moveFocus: this.interacted });
  }

  emit(name, extra) {
    tellHost(this.host, {
      type: `meetings:${name}`,
      link: this.link,
      session_id: this.session,
      visitor_id: this.visitor,
      ...extra,
    });
  }

  /** Steps 1–3: posted to the funnel and told to the host once per choice. */
  step(name, context) {
    const body = { visitor_id: this.visitor, session_id: this.session, link: this.link, name, ...context };
    if (this.steps.record(name, context, body)) this.emit(name, context);
  }

  /** A failed load: a message and a retry (never a blank bubble), and back to the previous step. */
  fail(error, retry, back) {
    const status = error?.status;
    let code = "server";
    let message = this.t.server;
    if (status === 404) {
      code = "not_found";
      message = this.t.gone;
      retry = null;
    } else if (!status) {
      code = "network";
      message = this.t.network;
    }
    this.emit("error", { error: { code, status: status || 0, message } });
    this.render("error", this.t.title, errorView({ t: this.t, message }, { retry: retry && this.act(() => retry.call(this)) }), back);
  }

  /** The header: the agent (a team's link: the team, SPEC §15), then what is chosen so far. */
  summary() {
    const { t, type, date, start, team } = this;
    const bits = [];
    if (type) bits.push(type.name, fill(t.min, { n: type.duration_minutes }));
    else if (team) bits.push(team.mode === "collective" ? t.teamAll : t.teamAny);
    if (date && this.frame.current !== "calendar") {
      bits.push(start ? fill(t.at, { date: this.fmt.day(date), time: this.fmt.time(start, this.tz) }) : this.fmt.day(date));
    }
    this.frame.showSummary(team ? team.name : this.agent ? this.agent.name : "", bits);
  }

  // ---- step 1: meeting type ----------------------------------------------------------------

  loadLink() {
    this.frame.setBusy(true);
    if (!this.link) {
      setTimeout(() => this.fail(new ApiError(404)));
      return;
    }
    this.load(
      this.api.info(),
      (data) => {
        this.agent = data.agent;
        this.team = data.team || null;
        this.types = data.meeting_types;
        this.showTypes();
      },
      (error) => this.fail(error, this.loadLink),
    );
  }

  showTypes() {
    this.type = this.date = this.start = null;
    this.summary();
    const on = {
      choose: this.act(this.chooseType),
      prefetch: (type) => {
        this.api.days({ meeting_type_id: type.id, month: todayIn(this.tz).slice(0, 7), tz: this.tz }).catch(() => {});
      },
    };
    this.render("types", this.t.type, typesView({ t: this.t, types: this.types }, on));
  }

  chooseType(type) {
    this.type = type;
    this.date = this.start = null;
    this.asksPhone = asksPhone(type);
    this.step("calendar_1st_step", { meeting_type_id: type.id });
    this.month = todayIn(this.tz).slice(0, 7);
    this.hops = EMPTY_MONTHS_SKIPPED;
    this.loadDays();
  }

  // ---- step 2: month calendar --------------------------------------------------------------

  loadDays() {
    const key = [this.type.id, this.month, this.tz].join("|");
    const show = (data) => {
      this.monthDays.set(key, data);
      if (!data.days.length && this.hops > 0) {
        this.hops--;
        this.moveMonth(1);
        return;
      }
      this.hops = 0;
      this.showCalendar(data.days);
    };
    if (this.monthDays.has(key)) {
      show(this.monthDays.get(key));
      return;
    }
    this.load(this.api.days({ meeting_type_id: this.type.id, month: this.month, tz: this.tz }), show, (error) =>
      this.fail(error, this.loadDays, this.showTypes),
    );
  }

  moveMonth(delta) {
    this.month = addMonths(this.month, delta);
    this.loadDays();
  }

  showCalendar(free) {
    const thisMonth = todayIn(this.tz).slice(0, 7);
    const view = {
      t: this.t,
      fmt: this.fmt,
      month: this.month,
      free,
      chosen: this.date,
      earliest: thisMonth,
      latest: addMonths(thisMonth, NEXT_MONTHS_SHOWN),
    };
    const on = {
      choose: this.act(this.chooseDate),
      prefetch: (date) => this.api.slots({ meeting_type_id: this.type.id, date, tz: this.tz }).catch(() => {}),
      move: (delta) => this.moveMonth(delta),
    };
    this.summary();
    this.render("calendar", this.t.date, calendarView(view, on), this.showTypes);
  }

  chooseDate(date) {
    this.date = date;
    this.start = null;
    this.step("calendar_2nd_step", { meeting_type_id: this.type.id, date });
    this.loadSlots();
  }

  // ---- step 3: hours in the invitee's time zone --------------------------------------------

  loadSlots(notice) {
    this.load(
      this.api.slots({ meeting_type_id: this.type.id, date: this.date, tz: this.tz }),
      (data) => {
        this.slots = data.slots;
        if (!this.slots.some((slot) => slot.start === this.start)) this.start = null;
        this.showSlots(notice);
      },
      (error) => this.fail(error, () => this.loadSlots(notice), this.loadDays),
    );
  }

  showSlots(notice) {
    const view = {
      t: this.t,
      fmt: this.fmt,
      date: this.date,
      timeZone: this.tz,
      slots: this.slots,
      chosen: this.start,
      notice,
    };
    const on = {
      changeZone: (zone) => {
        this.tz = zone;
        this.loadSlots();
      },
      choose: this.act(this.chooseSlot),
      confirm: this.act(this.confirmSlot),
    };
    this.summary();
    this.render("slots", this.t.time, slotsView(view, on), () => {
      this.start = null;
      this.loadDays();
    });
  }

  chooseSlot(start) {
    this.start = start;
    markChosenSlot(this.frame.body, start);
    this.summary();
    this.frame.say(fill(this.t.chosen, { time: this.fmt.time(start, this.tz) }));
  }

  confirmSlot() {
    this.step("calendar_3rd_step", { meeting_type_id: this.type.id, date: this.date, start: this.start });
    this.showForm();
  }

  // ---- step 4: the form --------------------------------------------------------------------

  showForm(errors, alert, retry) {
    const on = {
      input: (name, value) => {
        this.values[name] = value;
      },
      submit: () => this.submit(),
      retry: () => this.submit(),
    };
    this.summary();
    this.render("form", this.t.details, formView({ t: this.t, fields: this.fields(), values: this.values, errors, alert, retry }, on), this.loadSlots);
    const target = formFocusTarget(this.frame.body);
    if (target && this.interacted) target.focus();
  }

  /** The form's fields: with the invitee's phone for a `phone` type where the agent calls. */
  fields() {
    return this.asksPhone ? PHONE_FIELDS : FIELDS;
  }

  submit() {
    const errors = validate(this.values, this.t, this.fields());
    if (Object.keys(errors).length) {
      this.showForm(errors, this.t.fix);
      return;
    }
    const values = this.values;
    const payload = {
      meeting_type_id: this.type.id,
      start: this.start,
      timezone: this.tz,
      first_name: values.first_name.trim(),
      last_name: values.last_name.trim(),
      company_name: values.company_name.trim(),
      email: values.email.trim(),
      description: values.description,
      visitor_id: this.visitor,
      session_id: this.session,
      locale: languageOf(this.locale), // the invitee's emails and manage page follow it (SPEC §14)
    };
    if (this.asksPhone) payload.phone = values.phone.trim();
    // One Idempotency-Key per booking attempt: a retry of the same submit reuses it, so a lost
    // answer can never make two bookings; any change of slot or details is a new attempt.
    const same = this.pending && JSON.stringify(this.pending.payload) === JSON.stringify(payload);
    if (!same) this.pending = { payload, key: uuid() };
    this.send();
  }

  send() {
    const attempt = this.pending;
    showSending(this.frame.body, this.t);
    this.frame.say(this.t.booking);
    this.load(
      this.api.book(attempt.payload, attempt.key),
      (booking) => this.confirmed(booking, attempt.payload),
      (error) => this.submitFailed(error),
    );
  }

  submitFailed(error) {
    const t = this.t;
    const status = error?.status;
    const detail = error?.data?.detail;
    if (status === 409 || (status === 422 && typeof detail === "string")) {
      // The slot was taken (or left the offer) meanwhile: fresh hours, the details are kept.
      this.emit("error", { error: { code: "slot_unavailable", status, message: t.taken } });
      this.start = null;
      this.pending = null;
      this.monthDays.clear();
      this.api.forget();
      this.loadSlots(t.taken);
      return;
    }
    if (status === 422 && Array.isArray(detail)) {
      // The server wants the invitee's phone although the link answer did not say so: ask for it.
      if (detail.some((item) => item.loc?.[item.loc.length - 1] === "phone")) this.asksPhone = true;
      this.emit("error", { error: { code: "invalid", status: 422, message: t.fix } });
      this.showForm(serverFieldErrors(detail, t), t.fix);
      return;
    }
    if (status === 404) {
      this.fail(error);
      return;
    }
    const message = status ? t.server : t.network;
    this.emit("error", { error: { code: status ? "server" : "network", status: status || 0, message } });
    this.showForm({}, message, true);
  }

  // ---- confirmation ------------------------------------------------------------------------

  confirmed(booking, payload) {
    const { id, start, end, manage_url, ics_url } = booking;
    this.emit("booking_confirmed", {
      meeting_type_id: payload.meeting_type_id,
      date: this.date,
      start,
      booking: { id, start, end, manage_url, ics_url },
    });
    this.newAttempt(); // whatever happens next is a new widget attempt
    this.summary();
    // A team booking says who takes the call: `agent`, and for a collective one all `agents`.
    const hosts = (booking.agents || (booking.agent ? [booking.agent] : [])).map((agent) => agent.name);
    const view = { t: this.t, fmt: this.fmt, typeName: this.type.name, date: this.date, timeZone: this.tz, booking, email: payload.email, phone: payload.phone, hosts };
    const on = {
      again: () => {
        this.values.description = "";
        this.showTypes();
      },
    };
    const show = () => this.render("done", this.t.done, doneView(view, on));
    show();
    this.frame.say(this.t.done);
    this.awaitJoinLink(view, show);
  }

  /** For Google Meet the 201 comes before the link (it is made with the calendar event): ask for the
   * booking again for about a minute and show the link once it is there, as long as this confirmation
   * is still what the visitor sees. */
  awaitJoinLink(view, show) {
    const location = view.booking.location;
    if (location?.kind !== "google_meet" || location.join_url) return;
    const token = String(view.booking.manage_url).split("/").pop();
    const confirmation = (this.confirmation = {});
    const still = () => this.confirmation === confirmation && this.frame.current === "done";
    let tries = 0;
    const ask = () => {
      if (!still() || ++tries > JOIN_POLL_TRIES) return;
      getBooking(token).then(
        (fresh) => {
          if (!still()) return;
          if (!fresh?.location?.join_url) return void setTimeout(ask, JOIN_POLL_MS);
          view.booking = { ...view.booking, location: fresh.location };
          show();
          this.frame.say(this.t.joinReady);
        },
        () => setTimeout(ask, JOIN_POLL_MS),
      );
    };
    setTimeout(ask, JOIN_POLL_MS);
  }
}
