/*! Meetings booking widget. One strict-mode script, no framework, no dependencies.
 *
 * <script src="{BASE}/widget.js" async></script>
 *   <meetings-booking link="…"></meetings-booking>        a custom element (open shadow root)
 *   Meetings.mount(element, {link, visitorId, prefill, timezone, locale})
 *   <div data-meetings-chat> … <a href="{BASE}/b/{link}"> … </div>   chat unfurl, also for later messages
 *
 * The API base is where this script was loaded from, so it works embedded on any origin.
 */
(function (window, document) {
  "use strict";

  var existing = window.Meetings;
  if (existing && existing.version) return; // the script was included twice: keep the first

  var VERSION = "1.0.0";
  var script = document.currentScript || document.querySelector('script[src*="/widget.js"]');
  var BASE = script ? script.src.replace(/[?#].*$/, "").replace(/\/[^/]*$/, "") : location.origin;
  var ID = /^[A-Za-z0-9_.:-]{1,100}$/;
  var VISITOR_KEY = "meetings_visitor_id";
  var EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
  var LIMITS = { first_name: 100, last_name: 100, company_name: 100, email: 320, description: 2000 };
  var FIELDS = ["first_name", "last_name", "company_name", "email", "description"];

  // Strings: add a language by adding a dictionary with the same keys.
  var STRINGS = {
    en: {
      title: "Book a call", loading: "Loading…", type: "Choose a meeting", date: "Choose a date",
      time: "Choose a time", details: "Your details", done: "You're booked!", back: "Back",
      min: "{n} min", prev: "Previous month", next: "Next month",
      noDays: "No free days in this month. Try the next one.", noSlots: "No free times on this day. Please pick another date.",
      noTypes: "There is nothing to book right now.", tz: "Time zone", cont: "Continue",
      first_name: "First name", last_name: "Last name", company_name: "Company name", email: "Email",
      description: "Description", optional: "(optional)", book: "Book the call", booking: "Booking…",
      required: "Please fill this in.", tooLong: "Please use at most {n} characters.",
      badEmail: "Please enter a valid email address, like name@example.com.",
      fix: "Please correct the highlighted fields.", chosen: "{time} selected.",
      taken: "Sorry, that time is no longer available. Someone may have just booked it. Please choose another time.",
      network: "We couldn't reach the booking service. Check your connection and try again.",
      server: "Something went wrong on our side. Please try again.",
      gone: "This booking link no longer works. Please ask for a new one.",
      retry: "Try again", ics: "Add to calendar", manage: "Reschedule or cancel", again: "Book another call",
      sent: "A confirmation is on its way to {email}.", at: "{date}, {time}"
    },
    pl: {
      title: "Umów rozmowę", loading: "Ładowanie…", type: "Wybierz rodzaj spotkania", date: "Wybierz dzień",
      time: "Wybierz godzinę", details: "Twoje dane", done: "Spotkanie zarezerwowane!", back: "Wstecz",
      min: "{n} min", prev: "Poprzedni miesiąc", next: "Następny miesiąc",
      noDays: "Brak wolnych dni w tym miesiącu. Sprawdź następny.", noSlots: "Brak wolnych godzin tego dnia. Wybierz inny dzień.",
      noTypes: "Obecnie nie ma nic do zarezerwowania.", tz: "Strefa czasowa", cont: "Dalej",
      first_name: "Imię", last_name: "Nazwisko", company_name: "Nazwa firmy", email: "E-mail",
      description: "Opis", optional: "(opcjonalnie)", book: "Zarezerwuj rozmowę", booking: "Rezerwuję…",
      required: "To pole jest wymagane.", tooLong: "Maksymalnie {n} znaków.",
      badEmail: "Podaj poprawny adres e-mail, np. imie@example.com.",
      fix: "Popraw zaznaczone pola.", chosen: "Wybrano {time}.",
      taken: "Niestety ten termin jest już niedostępny. Ktoś mógł go właśnie zarezerwować. Wybierz inną godzinę.",
      network: "Nie udało się połączyć z serwisem rezerwacji. Sprawdź połączenie i spróbuj ponownie.",
      server: "Coś poszło nie tak po naszej stronie. Spróbuj ponownie.",
      gone: "Ten link do rezerwacji już nie działa. Poproś o nowy.",
      retry: "Spróbuj ponownie", ics: "Dodaj do kalendarza", manage: "Zmień termin lub odwołaj",
      again: "Zarezerwuj kolejną rozmowę", sent: "Potwierdzenie wysłaliśmy na adres {email}.", at: "{date}, {time}"
    }
  };

  var CSS =
    ":host{display:block;max-width:100%;min-width:0;margin:8px 0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2937;text-align:left;--a:var(--meetings-accent,#2563eb)}" +
    "*{box-sizing:border-box}" +
    ".w{position:relative;background:#fff;border:1px solid #e5e7eb;border-radius:12px;padding:12px;overflow-wrap:anywhere;min-width:0}" +
    ".hd{min-height:40px;margin:0 0 8px}.ag{font-weight:600}.sub{color:#6b7280;font-size:13px}" +
    ".bd{position:relative;min-height:300px}.bd[aria-busy=true]>:not(.sp){opacity:.4;pointer-events:none}" +
    ".sp{position:absolute;inset:0;display:flex;flex-direction:column;gap:8px;align-items:center;justify-content:center;color:#6b7280}" +
    ".sp i{width:24px;height:24px;border:3px solid #e5e7eb;border-top-color:var(--a);border-radius:50%;animation:r .8s linear infinite}" +
    "@keyframes r{to{transform:rotate(360deg)}}@media (prefers-reduced-motion:reduce){.sp i{animation-duration:4s}}" +
    "h2{font-size:16px;margin:0 0 8px}h2:focus{outline:none}h2:focus-visible{outline:2px solid var(--a)}" +
    "h3{font-size:14px;margin:0;text-transform:capitalize}p{margin:0 0 8px}" +
    "button,input,select,textarea{font:inherit;color:inherit}" +
    "button{cursor:pointer;border:1px solid #d1d5db;background:#fff;border-radius:8px;padding:6px 10px;min-height:36px}" +
    "button:hover:not(:disabled){border-color:var(--a)}button:disabled{cursor:default;color:#9ca3af;background:#f9fafb;border-color:#f3f4f6}" +
    ":focus-visible{outline:2px solid var(--a);outline-offset:2px}" +
    ".p{display:block;width:100%;margin-top:10px;background:var(--a);border:1px solid var(--a);color:#fff;font-weight:600;text-align:center;text-decoration:none;border-radius:8px;padding:8px 10px}" +
    ".p:disabled{background:#e5e7eb;border-color:#e5e7eb;color:#6b7280}" +
    ".s{display:block;width:100%;margin-top:8px;text-align:center;color:var(--a);text-decoration:none;padding:8px 10px}" +
    ".bk{border:0;background:none;color:var(--a);padding:2px 0;min-height:28px;margin:0 0 4px}" +
    "ul{list-style:none;margin:0;padding:0;display:grid;gap:8px}" +
    ".o{width:100%;text-align:left}.o b,.o small{display:block}.o small{color:#6b7280}" +
    ".mo{display:flex;align-items:center;justify-content:space-between;gap:4px;margin-bottom:4px}.mo button{min-width:36px}" +
    ".cal{display:grid;grid-template-columns:repeat(7,minmax(0,1fr));gap:2px;text-align:center}" +
    ".cal button{padding:0;min-height:34px;border-color:transparent;background:none}" +
    ".cal button:not(:disabled){font-weight:600;background:#eff6ff;color:var(--a)}" +
    ".wd{font-size:11px;color:#6b7280;padding:2px 0}" +
    ".sl{grid-template-columns:repeat(auto-fill,minmax(84px,1fr));max-height:204px;overflow-y:auto;padding:2px;margin-top:8px}.sl button{width:100%;white-space:nowrap;padding:6px 4px}" +
    "[aria-pressed=true],.cal [aria-pressed=true]{background:var(--a);border-color:var(--a);color:#fff}" +
    "label{display:block;font-weight:500;margin:8px 0 2px}label small{font-weight:400;color:#6b7280}" +
    "input,select,textarea{display:block;width:100%;max-width:100%;min-width:0;border:1px solid #9ca3af;border-radius:8px;padding:7px 9px;background:#fff}" +
    "textarea{min-height:72px;resize:vertical}[aria-invalid=true]{border-color:#dc2626}" +
    ".er{color:#b91c1c;font-size:13px;margin:2px 0 0}.er:empty{display:none}" +
    ".al{background:#fef2f2;color:#991b1b;border-radius:8px;padding:8px;margin:8px 0}" +
    ".vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}";

  var sheet = null;
  function adoptStyles(root) {
    // A constructed stylesheet is shared by every widget and passes a host's strict style-src CSP.
    try {
      if (!sheet) { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); }
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(h("style", { text: CSS }));
    }
  }

  // ---- small helpers -------------------------------------------------------------------------

  function h(tag, props, kids) {
    var node = document.createElement(tag);
    for (var key in props || {}) {
      var value = props[key];
      if (value == null || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key === "cls" ? "class" : key, value === true ? "" : value);
    }
    (kids || []).forEach(function (kid) { if (kid != null && kid !== false) node.append(kid); });
    return node;
  }

  function fill(template, vars) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return vars[name]; });
  }

  function uuid() {
    var c = window.crypto;
    if (c.randomUUID) return c.randomUUID(); // secure contexts only; the fallback works anywhere
    var b = c.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var x = Array.prototype.map.call(b, function (n) { return (n + 256).toString(16).slice(1); }).join("");
    return x.slice(0, 8) + "-" + x.slice(8, 12) + "-" + x.slice(12, 16) + "-" + x.slice(16, 20) + "-" + x.slice(20);
  }

  function storedVisitorId() {
    try {
      var id = localStorage.getItem(VISITOR_KEY);
      if (!id || !ID.test(id)) { id = uuid(); localStorage.setItem(VISITOR_KEY, id); }
      return id;
    } catch (e) {
      return uuid(); // storage blocked (privacy mode, sandboxed frame): one id per page view
    }
  }

  function validZone(tz) {
    try { return tz && new Intl.DateTimeFormat("en", { timeZone: tz }).resolvedOptions().timeZone; } catch (e) { return null; }
  }

  function pickLocale(wanted) {
    var list = [].concat(wanted || [], navigator.languages || [], navigator.language || []);
    for (var i = 0; i < list.length; i++) {
      var tag = String(list[i]);
      if (STRINGS[tag.slice(0, 2).toLowerCase()]) return tag;
    }
    return "en";
  }

  function length(text) { return Array.from(text).length; } // code points, as the server counts

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function todayIn(tz) {
    var parts = {};
    new Intl.DateTimeFormat("en", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }

  function utcDate(iso) { return new Date(Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +(iso.slice(8, 10) || 1))); }

  function apiError(status, data) {
    var error = new Error("HTTP " + status);
    error.status = status; error.data = data;
    return error;
  }

  function api(method, path, body, headers) {
    var abort = new AbortController();
    var timer = setTimeout(function () { abort.abort(); }, 20000);
    var init = { method: method, headers: Object.assign({ Accept: "application/json" }, headers), credentials: "omit", signal: abort.signal };
    if (body) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(BASE + path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { /* not JSON: keep null */ }
        if (!response.ok) throw apiError(response.status, data);
        return data;
      });
    }).finally(function () { clearTimeout(timer); });
  }

  function query(params) {
    return Object.keys(params).map(function (k) { return k + "=" + encodeURIComponent(params[k]); }).join("&");
  }

  // ---- one widget ------------------------------------------------------------------------------

  function Widget(host, options) {
    this.host = host;
    this.link = String(options.link || "");
    this.locale = pickLocale(options.locale);
    this.t = STRINGS[this.locale.slice(0, 2).toLowerCase()];
    this.days = {};
    this.recent = {};
    this.seq = 0;
    this.interacted = false;
    this.events = Promise.resolve();
    this.inflight = null;

    var root;
    try { root = host.shadowRoot || host.attachShadow({ mode: "open" }); } catch (e) {
      root = host.appendChild(h("div")).attachShadow({ mode: "open" }); // e.g. <a> cannot host a shadow root
    }
    root.textContent = "";
    adoptStyles(root);
    this.head = h("div", { cls: "hd" });
    this.status = h("div", { cls: "vh", role: "status", "aria-live": "polite" });
    this.body = h("div", { cls: "bd" });
    root.append(h("div", { cls: "w", role: "region", "aria-label": this.t.title, lang: this.locale }, [this.head, this.status, this.body]));
    this.loadLink();

    // After the first request is on its way: the first time-zone-aware Intl call loads ICU's zone
    // data (tens of milliseconds), which now overlaps the network instead of delaying it.
    this.tz = validZone(options.timezone) || validZone(Intl.DateTimeFormat().resolvedOptions().timeZone) || "UTC";
    if (options.visitorId && !ID.test(options.visitorId)) console.warn("Meetings: visitorId must match " + ID);
    this.visitor = options.visitorId && ID.test(options.visitorId) ? String(options.visitorId) : storedVisitorId();
    this.values = {};
    var prefill = options.prefill || {};
    FIELDS.forEach(function (f) { this.values[f] = String(prefill[f] || ""); }, this);
    this.newAttempt();
  }

  var W = Widget.prototype;

  W.newAttempt = function () {
    this.session = uuid();
    this.posted = {};
    this.pending = null; // {payload, key}: the submit in flight or to retry, with its Idempotency-Key
  };

  // Fetch helper that ignores answers to requests a newer one has replaced (fast clicking).
  W.load = function (promise, onData, onError) {
    var self = this, ticket = ++this.seq;
    this.inflight = promise.catch(function () {});
    this.setBusy(true);
    promise.then(function (data) {
      if (ticket !== self.seq) return;
      self.setBusy(false);
      onData(data);
    }, function (error) {
      if (ticket !== self.seq) return;
      self.setBusy(false);
      onError(error);
    });
  };

  W.setBusy = function (busy) {
    var old = this.body.querySelector(".sp");
    if (old) old.remove();
    this.body.setAttribute("aria-busy", String(busy));
    if (busy) {
      this.body.append(h("div", { cls: "sp" }, [h("i"), h("span", { text: this.t.loading })]));
    }
  };

  W.say = function (text) { this.status.textContent = text; };

  // Days and slots: a request started early (pointer down, hover, focus) is reused by the click
  // that follows; answers older than 15 s are fetched again, so the hours shown stay fresh.
  W.get = function (what, params) {
    var self = this, path = "/api/v1/links/" + encodeURIComponent(this.link) + "/" + what + "?" + query(params);
    var hit = this.recent[path], now = Date.now();
    if (hit && now - hit.at < 15000) return hit.promise;
    var promise = api("GET", path);
    this.recent[path] = { promise: promise, at: now };
    promise.catch(function () { if (self.recent[path] && self.recent[path].promise === promise) delete self.recent[path]; });
    return promise;
  };

  W.emit = function (name, extra) {
    var payload = Object.assign({
      type: "meetings:" + name, link: this.link, session_id: this.session, visitor_id: this.visitor
    }, extra);
    this.host.dispatchEvent(new CustomEvent(payload.type, { detail: payload, bubbles: true, composed: true }));
    try { window.postMessage(payload, "*"); } catch (e) { /* never break booking for the host */ }
  };

  // Steps 1-3 are posted once per choice (going back and choosing the same again posts nothing).
  W.step = function (name, context) {
    var key = name + "|" + JSON.stringify(context);
    if (this.posted[key]) return;
    this.posted[key] = true;
    var self = this, body = Object.assign({ visitor_id: this.visitor, session_id: this.session, link: this.link, name: name }, context);
    // Posted one after another, in order, and after the data the user waits for (the step's own
    // load starts right after this call): analytics never slows the widget down or blocks booking.
    this.events = this.events.then(function () { return self.inflight; }).then(function () {
      return api("POST", "/api/v1/events", body).catch(function () {});
    });
    this.emit(name, context);
  };

  // A failed load: a message and a retry (never a blank bubble), and back to the previous step.
  W.fail = function (error, retry, back) {
    var status = error && error.status, code, text;
    if (status === 404) { code = "not_found"; text = this.t.gone; retry = null; }
    else if (!status) { code = "network"; text = this.t.network; }
    else { code = "server"; text = this.t.server; }
    this.emit("error", { error: { code: code, status: status || 0, message: text } });
    var self = this;
    this.render("error", this.t.title, [
      h("p", { cls: "al", role: "alert", text: text }),
      retry && h("button", { cls: "p", type: "button", "data-k": "retry", text: this.t.retry, onclick: function () { self.interacted = true; retry.call(self); } })
    ], back);
  };

  // Replaces the step content; focus goes to the new step's heading, or back to the control the
  // user was on when the same step is drawn again (month change, time zone change).
  W.render = function (step, title, kids, back) {
    var self = this, root = this.body.getRootNode();
    var active = root.activeElement, key = active && active.getAttribute("data-k");
    var same = step === this.current;
    this.current = step;
    var heading = h("h2", { tabindex: "-1", text: title });
    this.body.textContent = "";
    this.body.setAttribute("aria-busy", "false");
    if (back) this.body.append(h("button", { cls: "bk", type: "button", "data-k": "back", text: "← " + this.t.back, onclick: function () { self.interacted = true; back.call(self); } }));
    this.body.append(heading);
    kids.forEach(function (k) { if (k) self.body.append(k); });
    if (!this.interacted) return;
    var again = same && key && this.body.querySelector('[data-k="' + key + '"]:not(:disabled)');
    (again || heading).focus();
  };

  W.summary = function () {
    var t = this.t, bits = [];
    if (this.type) bits.push(this.type.name, fill(t.min, { n: this.type.duration_minutes }));
    if (this.date && this.current !== "calendar") bits.push(this.start ? fill(t.at, { date: this.fmtDay(this.date), time: this.fmtTime(this.start) }) : this.fmtDay(this.date));
    this.head.textContent = "";
    this.head.append(h("div", { cls: "ag", text: this.agent ? this.agent.name : "" }), h("div", { cls: "sub", text: bits.join(" · ") }));
  };

  W.fmt = function (options, date) {
    var key = JSON.stringify(options), cache = this.formats || (this.formats = {});
    return (cache[key] || (cache[key] = new Intl.DateTimeFormat(this.locale, options))).format(date);
  };
  W.fmtDay = function (iso) { return this.fmt({ weekday: "long", day: "numeric", month: "long", timeZone: "UTC" }, utcDate(iso)); };
  W.fmtTime = function (start) { return this.fmt({ hour: "numeric", minute: "2-digit", timeZone: this.tz }, new Date(start)); };

  // ---- step 1: meeting type --------------------------------------------------------------------

  W.loadLink = function () {
    var self = this;
    this.setBusy(true);
    if (!this.link) return setTimeout(function () { self.fail(apiError(404)); });
    this.load(api("GET", "/api/v1/links/" + encodeURIComponent(this.link)), function (data) {
      self.agent = data.agent;
      self.types = data.meeting_types;
      self.showTypes();
    }, function (error) { self.fail(error, self.loadLink); });
  };

  W.showTypes = function () {
    var self = this, t = this.t;
    this.type = this.date = this.start = null;
    this.summary();
    this.render("types", t.type, [
      this.types.length ? h("ul", {}, this.types.map(function (type) {
        var prefetch = function () {
          self.get("days", { meeting_type_id: type.id, month: todayIn(self.tz).slice(0, 7), tz: self.tz }).catch(function () {});
        };
        return h("li", {}, [h("button", {
          cls: "o", type: "button", "data-meeting-type-id": type.id, "data-k": "t" + type.id,
          onclick: function () { self.interacted = true; self.chooseType(type); },
          onpointerenter: prefetch, onpointerdown: prefetch, onfocus: prefetch
        }, [h("b", { text: type.name }), h("small", { text: fill(t.min, { n: type.duration_minutes }) }), type.description && h("small", { text: type.description })])]);
      })) : h("p", { text: t.noTypes })
    ]);
  };

  W.chooseType = function (type) {
    this.type = type;
    this.date = this.start = null;
    this.step("calendar_1st_step", { meeting_type_id: type.id });
    this.month = todayIn(this.tz).slice(0, 7);
    this.hops = 2; // on first open, skip ahead over up to two months without free days
    this.loadDays();
  };

  // ---- step 2: month calendar ------------------------------------------------------------------

  W.loadDays = function () {
    var self = this, key = [this.type.id, this.month, this.tz].join("|");
    var show = function (data) {
      self.days[key] = data;
      if (!data.days.length && self.hops > 0) { self.hops--; return self.moveMonth(1); }
      self.hops = 0;
      self.showCalendar(data.days);
    };
    if (this.days[key]) return show(this.days[key]);
    this.load(this.get("days", { meeting_type_id: this.type.id, month: this.month, tz: this.tz }), show,
      function (error) { self.fail(error, self.loadDays, self.showTypes); });
  };

  W.moveMonth = function (delta) {
    var d = utcDate(this.month);
    d.setUTCMonth(d.getUTCMonth() + delta);
    this.month = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1);
    this.loadDays();
  };

  W.showCalendar = function (free) {
    var self = this, t = this.t, first = utcDate(this.month);
    var now = todayIn(this.tz).slice(0, 7);
    var limit = utcDate(now); limit.setUTCMonth(limit.getUTCMonth() + 12);
    var cells = [];
    for (var i = 0; i < 7; i++) {
      cells.push(h("div", { cls: "wd", "aria-hidden": "true", text: this.fmt({ weekday: "short", timeZone: "UTC" }, new Date(Date.UTC(2024, 0, 1 + i))) }));
    }
    for (i = 0; i < (first.getUTCDay() + 6) % 7; i++) cells.push(h("div"));
    var count = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
    for (i = 1; i <= count; i++) {
      var iso = this.month + "-" + pad(i), open = free.indexOf(iso) >= 0;
      cells.push(h("button", {
        type: "button", "data-date": iso, "data-k": "d" + iso, disabled: !open, "aria-label": this.fmtDay(iso),
        "aria-pressed": open ? String(iso === this.date) : null, text: String(i),
        onclick: (function (day) { return function () { self.interacted = true; self.chooseDate(day); }; })(iso),
        onpointerdown: (function (day) { return function () {
          self.get("slots", { meeting_type_id: self.type.id, date: day, tz: self.tz }).catch(function () {});
        }; })(iso)
      }));
    }
    this.summary();
    this.render("calendar", t.date, [
      h("div", { cls: "mo" }, [
        h("button", { type: "button", "data-k": "prev", "aria-label": t.prev, disabled: this.month <= now, text: "‹", onclick: function () { self.moveMonth(-1); } }),
        h("h3", { id: "m", "aria-live": "polite", text: this.fmt({ month: "long", year: "numeric", timeZone: "UTC" }, first) }),
        h("button", { type: "button", "data-k": "next", "aria-label": t.next, disabled: first >= limit, text: "›", onclick: function () { self.moveMonth(1); } })
      ]),
      h("div", { cls: "cal", role: "group", "aria-labelledby": "m" }, cells),
      !free.length && h("p", { role: "status", text: t.noDays })
    ], this.showTypes);
  };

  W.chooseDate = function (iso) {
    this.date = iso;
    this.start = null;
    this.step("calendar_2nd_step", { meeting_type_id: this.type.id, date: iso });
    this.loadSlots();
  };

  // ---- step 3: hours in the invitee's time zone ------------------------------------------------

  W.loadSlots = function (notice) {
    var self = this;
    this.load(this.get("slots", { meeting_type_id: this.type.id, date: this.date, tz: this.tz }), function (data) {
      self.slots = data.slots;
      if (!self.slots.some(function (s) { return s.start === self.start; })) self.start = null;
      self.showSlots(notice);
    }, function (error) { self.fail(error, function () { this.loadSlots(notice); }, function () { this.loadDays(); }); });
  };

  W.showSlots = function (notice) {
    var self = this, t = this.t;
    var option = function (z) { return h("option", { value: z, selected: z === self.tz, text: z.replace(/_/g, " ") }); };
    // Some 400 zones cost tens of milliseconds to lay out: the list is filled when the browser is
    // idle after the hours are on screen, or at once when the visitor reaches for the selector.
    var zones = function () {
      if (select.options.length > 1) return;
      var all = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
      if (all.indexOf(self.tz) < 0) all = [self.tz].concat(all);
      select.replaceChildren.apply(select, all.map(option));
    };
    var select = h("select", {
      id: "tz", "data-k": "tz", onfocus: zones, onpointerdown: zones,
      onchange: function () { self.tz = select.value; self.loadSlots(); }
    }, [option(this.tz)]);
    if (window.requestIdleCallback) requestIdleCallback(zones, { timeout: 1000 }); else setTimeout(zones, 200);
    this.summary();
    this.render("slots", t.time, [
      h("p", { text: this.fmtDay(this.date) }),
      h("label", { "for": "tz", text: t.tz }), select,
      notice && h("p", { cls: "al", role: "alert", text: notice }),
      this.slots.length ? h("ul", { cls: "sl", "aria-label": t.time }, this.slots.map(function (slot) {
        return h("li", {}, [h("button", {
          type: "button", "data-start": slot.start, "data-k": "s" + slot.start, "aria-pressed": String(slot.start === self.start),
          text: self.fmtTime(slot.start), onclick: function () { self.interacted = true; self.chooseSlot(slot.start); }
        })]);
      })) : h("p", { role: "status", text: t.noSlots }),
      h("button", { cls: "p", type: "button", "data-k": "continue", disabled: !this.start, text: t.cont, onclick: function () { self.interacted = true; self.confirmSlot(); } })
    ], function () { this.start = null; this.loadDays(); });
  };

  W.chooseSlot = function (start) {
    this.start = start;
    var buttons = this.body.querySelectorAll("[data-start]");
    buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b.getAttribute("data-start") === start)); });
    this.body.querySelector('[data-k="continue"]').disabled = false;
    this.summary();
    this.say(fill(this.t.chosen, { time: this.fmtTime(start) }));
  };

  W.confirmSlot = function () {
    this.step("calendar_3rd_step", { meeting_type_id: this.type.id, date: this.date, start: this.start });
    this.showForm();
  };

  // ---- step 4: the form ------------------------------------------------------------------------

  W.showForm = function (errors, alert, retry) {
    var self = this, t = this.t;
    errors = errors || {};
    var fields = FIELDS.map(function (name) {
      var optional = name === "company_name" || name === "description";
      var attrs = {
        id: "f-" + name, name: name, "data-k": "f-" + name, required: !optional,
        "aria-invalid": errors[name] ? "true" : null, "aria-describedby": "e-" + name,
        autocomplete: { first_name: "given-name", last_name: "family-name", company_name: "organization", email: "email" }[name],
        type: name === "email" ? "email" : null, oninput: function (e) { self.values[name] = e.target.value; }
      };
      var control = name === "description" ? h("textarea", attrs, [self.values[name]]) : h("input", Object.assign(attrs, { value: self.values[name] }));
      return h("div", {}, [
        h("label", { "for": "f-" + name }, [t[name], optional && " ", optional && h("small", { text: t.optional })]),
        control, h("p", { cls: "er", id: "e-" + name, text: errors[name] || "" })
      ]);
    });
    var form = h("form", { novalidate: true, onsubmit: function (e) { e.preventDefault(); self.submit(); } }, fields.concat([
      alert && h("div", { cls: "al", role: "alert" }, [alert]),
      retry && h("button", { type: "button", "data-k": "retry", text: t.retry, onclick: function () { self.submit(); } }),
      h("button", { cls: "p", type: "submit", "data-k": "submit", text: t.book })
    ]));
    this.summary();
    this.render("form", t.details, [form], function () { this.loadSlots(); });
    var target = form.querySelector("[aria-invalid=true]") || form.querySelector('[data-k="retry"]');
    if (target && this.interacted) target.focus();
  };

  W.validate = function () {
    var t = this.t, v = this.values, errors = {};
    FIELDS.forEach(function (name) {
      var value = name === "description" ? v[name] : v[name].trim();
      if (!value && name !== "company_name" && name !== "description") errors[name] = t.required;
      else if (length(value) > LIMITS[name]) errors[name] = fill(t.tooLong, { n: LIMITS[name] });
      else if (name === "email" && !EMAIL.test(value)) errors[name] = t.badEmail;
    });
    return errors;
  };

  W.submit = function () {
    var errors = this.validate();
    if (Object.keys(errors).length) return this.showForm(errors, this.t.fix);
    var v = this.values;
    var payload = {
      meeting_type_id: this.type.id, start: this.start, timezone: this.tz,
      first_name: v.first_name.trim(), last_name: v.last_name.trim(), company_name: v.company_name.trim(),
      email: v.email.trim(), description: v.description, visitor_id: this.visitor, session_id: this.session
    };
    // One Idempotency-Key per booking attempt: a retry of the same submit reuses it, so a lost
    // answer can never make two bookings; any change of slot or details is a new attempt.
    var same = this.pending && JSON.stringify(this.pending.payload) === JSON.stringify(payload);
    if (!same) this.pending = { payload: payload, key: uuid() };
    this.send();
  };

  W.send = function () {
    var self = this, t = this.t, attempt = this.pending;
    var button = this.body.querySelector('[data-k="submit"]');
    if (button) { button.disabled = true; button.textContent = t.booking; }
    this.say(t.booking);
    this.load(api("POST", "/api/v1/links/" + encodeURIComponent(this.link) + "/bookings", attempt.payload, { "Idempotency-Key": attempt.key }),
      function (booking) { self.confirmed(booking, attempt.payload); },
      function (error) { self.submitFailed(error); });
  };

  W.submitFailed = function (error) {
    var t = this.t, status = error && error.status, detail = error && error.data && error.data.detail;
    if (status === 409 || (status === 422 && typeof detail === "string")) {
      // The slot was taken (or left the offer) meanwhile: fresh hours, the details are kept.
      this.emit("error", { error: { code: "slot_unavailable", status: status, message: t.taken } });
      this.start = null;
      this.pending = null;
      this.days = {};
      this.recent = {};
      return this.loadSlots(t.taken);
    }
    if (status === 422 && Array.isArray(detail)) {
      var errors = {};
      detail.forEach(function (item) {
        var field = item.loc && item.loc[item.loc.length - 1];
        if (FIELDS.indexOf(field) >= 0) errors[field] = field === "email" ? t.badEmail : item.msg;
      });
      this.emit("error", { error: { code: "invalid", status: 422, message: t.fix } });
      return this.showForm(errors, t.fix);
    }
    if (status === 404) return this.fail(error);
    var message = status ? t.server : t.network;
    this.emit("error", { error: { code: status ? "server" : "network", status: status || 0, message: message } });
    this.showForm({}, message, true);
  };

  // ---- confirmation ----------------------------------------------------------------------------

  W.confirmed = function (booking, payload) {
    var self = this, t = this.t;
    var end = this.fmtTime(booking.end);
    this.emit("booking_confirmed", {
      meeting_type_id: payload.meeting_type_id, date: this.date, start: booking.start,
      booking: { id: booking.id, start: booking.start, end: booking.end, manage_url: booking.manage_url, ics_url: booking.ics_url }
    });
    this.newAttempt(); // whatever happens next is a new widget attempt
    this.summary();
    this.render("done", t.done, [
      h("p", { text: this.type.name + " · " + fill(t.at, { date: this.fmtDay(this.date), time: this.fmtTime(booking.start) + "–" + end }) + " (" + this.tz.replace(/_/g, " ") + ")" }),
      h("p", { text: fill(t.sent, { email: payload.email }) }),
      h("a", { cls: "p", href: booking.ics_url, download: "meeting.ics", "data-k": "ics", text: t.ics }),
      h("a", { cls: "s", href: booking.manage_url, target: "_blank", rel: "noopener", "data-k": "manage", text: t.manage }),
      h("button", { cls: "s", type: "button", "data-k": "again", text: t.again, onclick: function () { self.values.description = ""; self.showTypes(); } })
    ]);
    this.say(t.done);
  };

  // ---- public API, custom element, chat unfurl -------------------------------------------------

  function mount(element, options) {
    if (typeof element === "string") element = document.querySelector(element);
    if (!element) throw new Error("Meetings.mount: element not found");
    element.meetingsWidget = new Widget(element, options || {});
    return element.meetingsWidget;
  }

  function attributes(el) {
    return { link: el.getAttribute("link"), visitorId: el.getAttribute("visitor-id"), timezone: el.getAttribute("timezone"), locale: el.getAttribute("locale") };
  }

  if (window.customElements && !customElements.get("meetings-booking")) {
    customElements.define("meetings-booking", class extends HTMLElement {
      static get observedAttributes() { return ["link"]; }
      connectedCallback() { if (!this.meetingsWidget && this.getAttribute("link")) mount(this, attributes(this)); }
      attributeChangedCallback(_, before, after) { if (this.meetingsWidget && before !== after && after) mount(this, attributes(this)); }
    });
  }

  var LINK = new RegExp("^" + BASE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "/b/([A-Za-z0-9_-]{8,100})/?(?:[?#].*)?$");
  var TEXT_LINK = new RegExp(BASE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "/b/[A-Za-z0-9_-]{8,100}");

  function unfurlAnchor(anchor) {
    if (anchor.hasAttribute("data-meetings-unfurled")) return;
    var match = LINK.exec(anchor.href);
    if (!match) return;
    anchor.setAttribute("data-meetings-unfurled", "");
    var widget = document.createElement("meetings-booking");
    mount(widget, { link: match[1] });
    // The widget goes at the end of the message's block (a paragraph, a bubble), not mid-sentence.
    var chat = anchor.closest("[data-meetings-chat]"), box = anchor.parentElement;
    while (box && box !== chat && getComputedStyle(box).display.indexOf("inline") === 0) box = box.parentElement;
    if (box && box !== chat) box.appendChild(widget); else anchor.insertAdjacentElement("afterend", widget);
  }

  function unfurl(scope) {
    // Plain-text links become anchors first, so a message keeps its link and gets the widget.
    var walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT), texts = [], node, match;
    while ((node = walker.nextNode())) {
      if (TEXT_LINK.test(node.data) && !(node.parentElement && node.parentElement.closest("a,script,style,textarea"))) texts.push(node);
    }
    texts.forEach(function (text) {
      while ((match = TEXT_LINK.exec(text.data))) {
        var rest = text.splitText(match.index);
        text = rest.splitText(match[0].length);
        var anchor = h("a", { href: match[0], target: "_blank", rel: "noopener", text: match[0] });
        rest.replaceWith(anchor);
      }
    });
    var anchors = scope.querySelectorAll ? scope.querySelectorAll("a[href]") : [];
    Array.prototype.forEach.call(anchors, unfurlAnchor);
    if (scope.matches && scope.matches("a[href]")) unfurlAnchor(scope);
  }

  function scan(node) {
    var el = node.nodeType === 1 ? node : node.parentElement;
    if (!el) return;
    if (el.closest("[data-meetings-chat]")) return unfurl(el);
    Array.prototype.forEach.call(el.querySelectorAll("[data-meetings-chat]"), unfurl);
  }

  new MutationObserver(function (records) {
    records.forEach(function (record) { Array.prototype.forEach.call(record.addedNodes, scan); });
  }).observe(document.documentElement, { childList: true, subtree: true });
  scan(document.documentElement);

  // Calls made before this async script arrived were queued by the snippet: replay them.
  var queued = existing && existing.q ? existing.q : [];
  window.Meetings = { version: VERSION, base: BASE, mount: mount, strings: STRINGS };
  queued.forEach(function (args) { mount.apply(null, args); });
})(window, document);
