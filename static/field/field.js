// The field pages' behaviour (issue 16): forms marked <form data-outbox …> become outbox
// entries (position, time and photos captured in the page), the top bar's badge counts what
// waits, the banner says when the page is offline or from the phone's copy, and the service
// worker is registered. The outbox page's lists are static/field/outbox-page.js.
(() => {
  "use strict";

  function json(id) {
    const el = document.getElementById(id);
    try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
  }
  const S = json("field-strings");
  const C = json("field-config");
  const Outbox = window.FieldOutbox;
  const Photos = window.FieldPhotos;
  const MAX_PHOTOS = 12;

  function fmt(template, values) {
    return String(template || "").replace(/%\((\w+)\)s/g, (m, k) => (values[k] ?? ""));
  }
  function hhmm(value) {
    const d = value instanceof Date ? value : new Date(value);
    if (Number.isNaN(d.getTime())) return "";
    return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  }
  function ago(iso) {
    const minutes = Math.floor((Date.now() - Date.parse(iso)) / 60000);
    if (!(minutes >= 1)) return S.just_now;
    if (minutes < 60) return fmt(S.min_ago, { n: minutes });
    return fmt(S.h_ago, { n: Math.floor(minutes / 60) });
  }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function distanceM(lat1, lng1, lat2, lng2) {
    const rad = Math.PI / 180;
    const dp = (lat2 - lat1) * rad;
    const dl = (lng2 - lng1) * rad;
    const h = Math.sin(dp / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dl / 2) ** 2;
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
  }

  // --- support --------------------------------------------------------------------------------

  function support() {
    const notice = document.getElementById("field-support-notice");
    let problem = "";
    if (!window.isSecureContext) problem = S.insecure;
    else if (!Outbox) problem = S.no_idb;
    if (notice && problem) { notice.textContent = problem; notice.hidden = false; }
    return !problem;
  }

  // --- the banner: offline, from the phone's copy, log in again ----------------------------------

  const banner = {
    el: document.getElementById("field-banner"),
    offline: navigator.onLine === false,
    fromCache: false,
    freshReady: false,
    needsLogin: false,
    draw() {
      const box = this.el;
      if (!box) return;
      const text = document.getElementById("field-banner-text");
      const reload = document.getElementById("field-banner-reload");
      const login = document.getElementById("field-banner-login");
      const asOf = hhmm(box.dataset.renderedAt);
      let state = "online";
      let message = "";
      if (this.needsLogin && !this.offline) {
        state = "login";
        message = S.login_again;
      } else if (this.offline) {
        state = "offline";
        message = asOf ? fmt(S.offline_as_of, { time: asOf }) : S.offline;
      } else if (this.fromCache) {
        state = "cached";
        message = fmt(S.cached_as_of, { time: asOf }) + (this.freshReady ? " " + S.fresh_ready : "");
      }
      box.dataset.state = state;
      box.hidden = state === "online";
      if (text.textContent !== message) text.textContent = message;
      reload.hidden = state !== "cached";
      login.hidden = state !== "login";
    },
  };

  function bannerStart() {
    if (!banner.el) return;
    document.getElementById("field-banner-reload").addEventListener("click", () => location.reload());
    window.addEventListener("offline", () => { banner.offline = true; banner.draw(); });
    window.addEventListener("online", () => { banner.offline = false; probe(); banner.draw(); });
    let sendOffline = false; // what the outbox last learnt by sending
    window.addEventListener("outbox:status", (ev) => {
      banner.needsLogin = Boolean(ev.detail.needsLogin);
      if (Boolean(ev.detail.offline) !== sendOffline) {
        sendOffline = Boolean(ev.detail.offline);
        banner.offline = sendOffline || navigator.onLine === false;
      }
      banner.draw();
    });
    banner.draw();
    probe();
  }

  // navigator.onLine says "online" on a network that reaches nothing: ask the platform.
  async function probe() {
    if (navigator.onLine === false) { banner.offline = true; banner.draw(); return; }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 8000);
    try {
      await fetch(document.querySelector('link[rel="manifest"]').href, { cache: "no-store", signal: abort.signal });
      banner.offline = false;
    } catch (e) {
      banner.offline = true;
    } finally {
      clearTimeout(timer);
    }
    banner.draw();
  }

  // --- the service worker ----------------------------------------------------------------------

  function workerStart() {
    if (!("serviceWorker" in navigator) || !C.sw_url) return;
    navigator.serviceWorker.addEventListener("message", (ev) => {
      const data = ev.data || {};
      if (data.type === "from-cache") {
        banner.fromCache = true;
        if (data.offline) banner.offline = true;
        banner.draw();
      } else if (data.type === "fresh-ready") {
        banner.freshReady = true;
        banner.draw();
      }
    });
    navigator.serviceWorker.startMessages();
    const controlled = Boolean(navigator.serviceWorker.controller);
    navigator.serviceWorker.register(C.sw_url, { scope: C.scope }).catch((err) => {
      console.warn("field: service worker not registered", err);
    });
    navigator.serviceWorker.ready.then((registration) => {
      // The role's own pages (the bottom navigation) open offline from the first visit on; the
      // worker fetches only those it does not hold yet.
      const urls = Array.from(document.querySelectorAll(".field-tabs a"), (a) => a.pathname);
      if (!controlled) {
        // This page and its photos were loaded before the worker: ask it to keep them.
        urls.unshift(location.pathname + location.search);
        for (const img of document.querySelectorAll(".field-photos img")) urls.push(img.src);
      }
      if (registration.active) registration.active.postMessage({ type: "keep", urls });
      // The most urgent tasks open offline even if the officer reaches a dead spot before
      // opening them (a copy under ten minutes old is kept as it is).
      const tasks = Array.from(document.querySelectorAll("#task-list a.task-link"), (a) => a.pathname).slice(0, 10);
      const saveData = navigator.connection && navigator.connection.saveData;
      if (tasks.length && registration.active && !saveData) {
        setTimeout(() => registration.active.postMessage({ type: "keep", urls: tasks, fresh_ms: 600000 }), 2000);
      }
    });
    // Logging out: this user's pages leave the phone's cache (their outbox entries stay).
    for (const form of document.querySelectorAll('form[action$="/logout/"]')) {
      form.addEventListener("submit", (ev) => {
        if (form.dataset.cleared) return;
        ev.preventDefault();
        const clear = caches.keys().then((names) => Promise.all(
          names.filter((n) => n.startsWith("shaoxiang-field-pages-")).map((n) => caches.delete(n))));
        const timeout = new Promise((resolve) => setTimeout(resolve, 1500));
        Promise.race([clear, timeout]).finally(() => { form.dataset.cleared = "1"; form.submit(); });
      });
    }
  }

  // --- persistent storage --------------------------------------------------------------------

  const storage = { state: "unknown" };

  async function storageAsk() {
    if (!navigator.storage || !navigator.storage.persisted) {
      storage.state = "unknown";
    } else {
      let persisted = await navigator.storage.persisted().catch(() => false);
      if (!persisted && navigator.storage.persist) {
        // Asked at most once a day: some browsers prompt each time.
        const last = Number(localStorage.getItem("shaoxiang-field-persist-asked") || 0);
        if (Date.now() - last > 24 * 3600e3) {
          localStorage.setItem("shaoxiang-field-persist-asked", String(Date.now()));
          persisted = await navigator.storage.persist().catch(() => false);
        }
      }
      storage.state = persisted ? "granted" : "refused";
    }
    document.body.dataset.storage = storage.state;
    window.dispatchEvent(new CustomEvent("field:storage", { detail: { state: storage.state } }));
    storageDraw();
  }

  function storageDraw(pendingCount) {
    const notice = document.getElementById("field-storage-notice");
    if (!notice) return;
    const n = pendingCount ?? Number(document.getElementById("outbox-badge")?.dataset.count || 0);
    const onOutbox = Boolean(document.getElementById("outbox"));
    const show = storage.state !== "granted" && storage.state !== "pending" && (n > 0 || onOutbox);
    notice.textContent = storage.state === "refused" ? S.storage_refused : S.storage_unknown;
    notice.dataset.storage = storage.state;
    notice.hidden = !show || onOutbox; // the outbox page says it in its own line
    const line = document.getElementById("outbox-storage");
    if (line) {
      line.dataset.storage = storage.state;
      line.textContent = storage.state === "granted" ? S.storage_granted
        : storage.state === "refused" ? S.storage_refused : S.storage_unknown;
      line.classList.toggle("field-alert", storage.state !== "granted");
      line.classList.toggle("field-alert-warn", storage.state !== "granted");
    }
  }

  // --- entries as the pages show them ------------------------------------------------------------

  function mine(entries) { return entries.filter((e) => e.user === C.user); }
  function stateText(entry) {
    if (entry.user !== C.user) return S.other_user;
    if (entry.state === "waiting" && entry.last_error === S.state_login) return S.state_login;
    return S["state_" + entry.state] || entry.state;
  }

  // One entry as a list item. ``actions``: draw its buttons (the outbox page).
  function entryItem(entry, { actions = false } = {}) {
    const item = el("li", {
      class: `entry entry-${entry.state}`,
      "data-entry-key": entry.key,
      "data-state": entry.state,
      "data-action": entry.action,
      "data-case": entry.case || "",
    });
    const head = el("div", { class: "entry-head" },
      el("span", { class: "entry-label", text: entry.label }),
      el("span", { class: `entry-state entry-state-${entry.state}`, "data-entry-state": entry.state, text: stateText(entry) }));
    item.append(head);
    const meta = el("p", { class: "entry-meta" },
      el("time", { datetime: entry.captured_at, text: `${S.captured} ${hhmm(entry.captured_at)}` }),
      " · ", el("span", { "data-entry-age": "", text: ago(entry.captured_at) }));
    if (entry.files && entry.files.length) meta.append(" · ", `${S.photos} ${entry.files.length}`);
    if (entry.attempts) meta.append(" · ", `${S.attempts} ${entry.attempts}`);
    if (entry.state === "done" && entry.result) {
      if (entry.result.number && !entry.case) meta.append(" · ", `${S.case} ${entry.result.number}`);
      if (entry.result.status_label) meta.append(" · ", entry.result.status_label);
    }
    item.append(meta);
    if (entry.state === "conflict") {
      item.append(el("p", { class: "entry-help", text: S.conflict_help }));
    }
    if (entry.last_error && entry.state !== "done") {
      item.append(el("p", { class: "entry-error", "data-entry-error": "", text: `${S.error}: ${entry.last_error}` }));
    }
    if (entry.state === "done" && entry.result && entry.result.self_handle_refused) {
      item.append(el("p", { class: "entry-error", text: entry.result.self_handle_refused }));
    }
    if (actions && entry.user === C.user && entry.state !== "done") {
      const buttons = el("div", { class: "entry-buttons" });
      if (entry.state === "conflict") {
        buttons.append(el("button", { type: "button", class: "field-button field-button-primary", "data-entry-apply": entry.key, text: S.apply }));
      } else if (entry.state !== "sending" && entry.state !== "blocked") {
        buttons.append(el("button", { type: "button", class: "field-button", "data-entry-retry": entry.key, text: S.retry }));
      }
      if (entry.state !== "sending") {
        buttons.append(el("button", { type: "button", class: "field-button field-button-danger", "data-entry-discard": entry.key, "data-armed": "false", text: S.discard }));
      }
      buttons.append(el("p", { class: "entry-feedback", "data-entry-feedback": "", role: "status" }));
      item.append(buttons);
    }
    return item;
  }

  function listFill(list, entries, options) {
    if (!list) return;
    const items = entries.map((e) => entryItem(e, options));
    list.replaceChildren(...items);
  }

  async function redraw() {
    if (!Outbox) return;
    const entries = await Outbox.all();
    const pending = mine(entries).filter(Outbox.isPending);
    const attention = pending.some((e) => e.state === "conflict" || e.state === "refused");
    for (const badge of document.querySelectorAll("[data-outbox-count]")) {
      badge.textContent = String(pending.length);
      badge.hidden = pending.length === 0;
    }
    const link = document.getElementById("outbox-badge");
    if (link) {
      link.dataset.count = String(pending.length);
      link.dataset.attention = attention ? "true" : "false";
      const label = link.querySelector("[data-outbox-count-label]");
      if (label) label.textContent = pending.length ? fmt(S.waiting_count, { n: pending.length }) : "";
    }
    storageDraw(pending.length);
    taskPageDraw(entries);
    tasksListDraw(pending);
    reportsDraw(entries);
    window.dispatchEvent(new CustomEvent("field:redraw", { detail: { entries } }));
  }

  // --- capture: position ---------------------------------------------------------------------------

  function position({ timeout = 20000, maximumAge = 30000 } = {}) {
    return new Promise((resolve, reject) => {
      if (!navigator.geolocation) { reject(Object.assign(new Error("none"), { code: 0 })); return; }
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({
          lat: p.coords.latitude, lng: p.coords.longitude,
          accuracy: Math.round(p.coords.accuracy * 10) / 10, at: p.timestamp || Date.now(),
        }),
        (err) => reject(err),
        { enableHighAccuracy: true, timeout, maximumAge });
    });
  }
  function positionReason(err) {
    if (err && err.code === 1) return S.position_denied;
    if (err && err.code === 3) return S.position_timeout;
    return (err && err.message) || "";
  }

  // --- capture: photos -----------------------------------------------------------------------------

  const photoState = new WeakMap(); // input → {items: [{blob, sha256, …}], busy: Promise}

  function photosOf(input) {
    if (!photoState.has(input)) photoState.set(input, { items: [], busy: Promise.resolve() });
    return photoState.get(input);
  }

  function photosDraw(input) {
    const group = input.closest(".field-group");
    const state = photosOf(input);
    const list = group.querySelector("[data-photo-previews]");
    const status = group.querySelector("[data-photo-status]");
    for (const img of list.querySelectorAll("img")) URL.revokeObjectURL(img.src);
    list.replaceChildren(...state.items.map((item, index) => {
      const url = URL.createObjectURL(item.blob);
      const remove = el("button", { type: "button", class: "photo-remove", "data-photo-remove": index, "aria-label": `${S.discard} ${index + 1}`, text: "×" });
      remove.addEventListener("click", () => { state.items.splice(index, 1); photosDraw(input); });
      return el("li", { class: "photo-preview", "data-photo-sha256": item.sha256 },
        el("img", { src: url, alt: `${S.photos} ${index + 1}`, width: 72, height: 72 }), remove);
    }));
    status.textContent = state.items.length ? fmt(S.photos_ready, { count: state.items.length }) : "";
    input.dataset.photos = String(state.items.length);
  }

  function photoInputStart(input) {
    input.addEventListener("change", () => {
      const files = Array.from(input.files || []);
      input.value = ""; // the same input takes the next picture (a camera gives one at a time)
      if (!files.length) return;
      const state = photosOf(input);
      const status = input.closest(".field-group").querySelector("[data-photo-status]");
      status.textContent = S.photos_processing;
      input.dataset.busy = "true";
      state.busy = state.busy.then(async () => {
        for (const file of files) {
          if (state.items.length >= MAX_PHOTOS) break;
          try {
            state.items.push(await Photos.prepare(file));
          } catch (e) {
            status.textContent = fmt(S.photo_failed, { name: file.name });
          }
        }
        delete input.dataset.busy;
        photosDraw(input);
      });
    });
  }

  // --- capture: the forms ------------------------------------------------------------------------

  function formStatus(form, message, kind) {
    const box = form.querySelector("[data-form-status]");
    if (!box) return;
    box.textContent = message;
    box.dataset.kind = kind || "";
  }

  function invalid(form, field, message) {
    const target = field && field.length !== undefined && !field.tagName ? field[0] : field;
    if (target) {
      target.setAttribute("aria-invalid", "true");
      target.focus();
    }
    formStatus(form, message, "error");
    return false;
  }

  function validate(form, action) {
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
    const value = (name) => (form.elements[name] ? String(form.elements[name].value || "").trim() : "");
    if (action === "resolve") {
      if (!value("handling_mode")) return invalid(form, form.querySelector('input[name="handling_mode"]'), S.required);
      if (value("handling_mode") === "enforcement" && !value("second_officer")) {
        return invalid(form, form.elements.second_officer, S.second_officer_needed);
      }
      if (!value("result")) return invalid(form, form.elements.result, S.required);
    }
    if (action === "report" || action === "self_handle") {
      const codes = json("field-matter-codes");
      if (!codes[value("matter_type_name")]) return invalid(form, form.elements.matter_type_name, S.pick_matter);
      if (!value("description")) return invalid(form, form.elements.description, S.required);
      if (action === "self_handle") {
        if (!value("handling_mode")) return invalid(form, form.querySelector('input[name="handling_mode"]'), S.required);
        if (!value("result")) return invalid(form, form.elements.result, S.required);
      }
    }
    return true;
  }

  async function submit(form) {
    let action = form.dataset.outboxAction;
    const selfHandle = form.elements.self_handle;
    if (action === "report" && selfHandle && selfHandle.checked) action = "self_handle";
    if (!validate(form, action)) return;
    const capturedAt = new Date().toISOString(); // the moment the officer tapped
    const fields = [["captured_at", capturedAt]];
    const value = (name) => (form.elements[name] ? String(form.elements[name].value || "").trim() : "");
    // Position: required for a sign-in and a report, taken if it comes for a result.
    let where = null;
    if (action === "arrive" || action === "report" || action === "self_handle") {
      // A sign-in takes the position of the moment; a report may use the one shown on the form
      // (the problem's place, found again on request) while it is fresh.
      where = action !== "arrive" && form._position && Date.now() - form._position.at < 120000
        ? form._position : null;
      if (!where) {
        formStatus(form, S.locating, "busy");
        try {
          where = await position({ timeout: 20000, maximumAge: action === "arrive" ? 10000 : 30000 });
        } catch (err) {
          return invalid(form, null, `${fmt(S.position_failed, { reason: positionReason(err) })} ${S.position_needed}`);
        }
      }
    } else {
      try { where = await position({ timeout: 8000, maximumAge: 120000 }); } catch (e) { where = null; }
    }
    if (where) fields.push(["lat", String(where.lat)], ["lng", String(where.lng)], ["accuracy", String(where.accuracy)]);
    // Photos: wait for the ones still being scaled.
    const files = [];
    for (const input of form.querySelectorAll('input[type="file"][name]')) {
      if (input.closest("[hidden]")) continue; // the after photos of a report not handled
      const state = photosOf(input);
      formStatus(form, S.photos_processing, "busy");
      await state.busy;
      state.items.forEach((item, index) => {
        const stem = input.name === "photos" ? "photo" : input.name.replace(/_photos$/, "");
        files.push({ field: input.name, name: `${stem}-${index + 1}.jpg`, type: item.type, size: item.size, sha256: item.sha256, blob: item.blob });
        fields.push([`${input.name}_sha256`, item.sha256]);
      });
    }
    const display = {};
    if (action === "resolve") {
      fields.push(["result", value("result")], ["handling_mode", value("handling_mode")]);
      if (value("handling_mode") === "enforcement") fields.push(["second_officer", value("second_officer")]);
      display.result = value("result");
      display.handling_mode = form.querySelector('input[name="handling_mode"]:checked')?.closest("label")?.querySelector("strong")?.textContent || value("handling_mode");
    }
    if (action === "report" || action === "self_handle") {
      const codes = json("field-matter-codes");
      fields.push(["source", "grid_report"], ["matter_type", codes[value("matter_type_name")]],
        ["description", value("description")]);
      if (value("address")) fields.push(["address", value("address")]);
      display.matter = value("matter_type_name");
      display.description = value("description");
      if (action === "self_handle") {
        fields.push(["self_handle", "true"], ["result", value("result")], ["handling_mode", value("handling_mode")]);
        display.result = value("result");
      }
    }
    const number = form.dataset.outboxCase || null;
    const snapshot = number ? json("field-case-snapshot") : null;
    const label = action === "self_handle" ? `${S.action_self_handle}: ${value("matter_type_name")}`
      : action === "report" ? `${S.action_report}: ${value("matter_type_name")}`
        : form.dataset.outboxLabel || action;
    const entry = await Outbox.add({
      action,
      url: form.dataset.outboxUrl,
      case: number,
      label,
      based_on_version: number ? Number(form.dataset.outboxVersion) : null,
      page_drawn_at: document.getElementById("field-banner")?.dataset.renderedAt || null,
      captured_at: capturedAt,
      fields,
      files,
      snapshot,
      display,
    });
    // Queued: the form is emptied so that the same work is not queued twice.
    form.reset();
    for (const input of form.querySelectorAll('input[type="file"][name]')) {
      photosOf(input).items = [];
      photosDraw(input);
    }
    if (form.id === "report-form") selfHandleDraw(form);
    formStatus(form, S.queued, "queued");
    form.dataset.queued = entry.key;
    if (action === "arrive") afterArrive(entry);
    Outbox.sendNow(true);
    return entry;
  }

  function formsStart() {
    for (const form of document.querySelectorAll("form[data-outbox]")) {
      for (const input of form.querySelectorAll('input[type="file"]')) photoInputStart(input);
      // "Queued" belongs to the entry just made, not to the next one being filled in.
      form.addEventListener("input", () => {
        const box = form.querySelector("[data-form-status]");
        if (box && box.dataset.kind !== "busy") formStatus(form, "", "");
      });
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (!Outbox || form.dataset.busy) return;
        form.dataset.busy = "true";
        const button = form.querySelector('button[type="submit"]');
        if (button) button.disabled = true;
        try {
          await submit(form);
        } catch (err) {
          console.error(err);
          const full = err && (err.name === "QuotaExceededError" || /quota/i.test(String(err.message)));
          formStatus(form, full ? S.storage_full : String(err && err.message ? err.message : err), "error");
        } finally {
          delete form.dataset.busy;
          if (button) button.disabled = false;
        }
      });
    }
  }

  // --- the task page -------------------------------------------------------------------------------

  function taskPageStart() {
    const task = document.getElementById("task");
    if (!task) return;
    const resolveForm = document.getElementById("resolve-form");
    if (resolveForm) {
      const second = resolveForm.querySelector("[data-second-officer]");
      const sync = () => {
        const mode = resolveForm.querySelector('input[name="handling_mode"]:checked');
        second.hidden = !(mode && mode.value === "enforcement");
      };
      resolveForm.addEventListener("change", sync);
      resolveForm.addEventListener("reset", () => setTimeout(sync));
      sync();
    }
    // Distance from the case, when the phone gives a position.
    const line = document.getElementById("task-distance");
    if (line && navigator.geolocation) {
      line.textContent = S.locating;
      position({ timeout: 20000, maximumAge: 60000 }).then((p) => {
        showDistance(task, line, p);
        const arrive = document.getElementById("arrive-form");
        if (arrive) arrive._position = p;
      }, (err) => { line.textContent = fmt(S.position_failed, { reason: positionReason(err) }); });
    }
  }

  function showDistance(task, line, p) {
    const d = Math.round(distanceM(p.lat, p.lng, Number(task.dataset.lat), Number(task.dataset.lng)));
    const limit = Number(line.dataset.warnMetres || C.arrive_warn_metres || 200);
    line.textContent = fmt(S.distance, { distance: d, accuracy: Math.round(p.accuracy) }) +
      (d > limit ? " " + fmt(S.distance_far, { limit }) : "");
    line.dataset.distance = String(d);
    line.classList.toggle("task-distance-far", d > limit);
  }

  function afterArrive(entry) {
    const arrive = document.getElementById("arrive-form");
    const resolve = document.getElementById("resolve-form");
    if (arrive) {
      arrive.hidden = true;
      arrive.dataset.arriveQueued = entry.key;
    }
    if (resolve && resolve.hasAttribute("data-after-arrive")) resolve.hidden = false;
    let note = document.getElementById("arrive-note");
    if (!note && arrive) {
      note = el("p", { id: "arrive-note", class: "field-note", role: "status" });
      arrive.after(note);
    }
    if (note) note.textContent = fmt(S.arrive_queued, { time: hhmm(entry.captured_at) });
  }

  function taskPageDraw(entries) {
    const task = document.getElementById("task");
    if (!task) return;
    const number = task.dataset.case;
    const rendered = Date.parse(document.getElementById("field-banner")?.dataset.renderedAt || 0);
    const ofCase = mine(entries).filter((e) => e.case === number);
    const pending = ofCase.filter(Outbox.isPending);
    // What this phone did since the page was drawn counts too (a page from the cache).
    const since = ofCase.filter((e) => Outbox.isPending(e) || Date.parse(e.done_at) > rendered);
    const box = document.getElementById("task-entries");
    listFill(box.querySelector("[data-entry-list]"), pending);
    box.hidden = pending.length === 0;
    const arrive = since.find((e) => e.action === "arrive");
    if (arrive && document.getElementById("arrive-form")) afterArrive(arrive);
    const resolved = since.find((e) => e.action === "resolve");
    const resolve = document.getElementById("resolve-form");
    if (resolve && resolved) {
      // One result per case from this page: the queued one is shown, not the form again.
      resolve.hidden = true;
      let note = document.getElementById("resolve-note");
      if (!note) {
        note = el("p", { id: "resolve-note", class: "field-note", role: "status" });
        resolve.after(note);
      }
      note.textContent = fmt(S.resolve_queued, { time: hhmm(resolved.captured_at) });
    }
  }

  // --- the tasks list ---------------------------------------------------------------------------

  function tasksListDraw(pending) {
    for (const item of document.querySelectorAll("#task-list [data-case]")) {
      const n = pending.filter((e) => e.case === item.dataset.case).length;
      const chip = item.querySelector("[data-task-pending]");
      if (!chip) continue;
      chip.textContent = n ? fmt(S.waiting_count, { n }) : "";
      chip.hidden = n === 0;
      chip.dataset.count = String(n);
    }
  }

  // --- the report form and my reports ----------------------------------------------------------------

  function reportsDraw(entries) {
    const box = document.getElementById("report-entries");
    if (!box) return;
    const reports = mine(entries).filter((e) => !e.case && Outbox.isPending(e));
    listFill(box.querySelector("[data-entry-list]"), reports);
    box.hidden = reports.length === 0;
  }

  function selfHandleDraw(form) {
    const on = form.elements.self_handle.checked;
    document.getElementById("report-self-fields").hidden = !on;
    form.elements.self_handle.setAttribute("aria-checked", on ? "true" : "false");
  }

  async function locateDraw(form, p) {
    const where = document.getElementById("report-position");
    const cell = document.getElementById("report-cell");
    where.textContent = `${p.lat.toFixed(6)}, ${p.lng.toFixed(6)} ` + fmt(S.position, { accuracy: Math.round(p.accuracy) });
    where.dataset.accuracy = String(p.accuracy);
    cell.textContent = "";
    if (navigator.onLine === false || !C.locate_url) { cell.textContent = S.cell_offline; return; }
    try {
      const response = await fetch(`${C.locate_url}?lat=${encodeURIComponent(p.lat)}&lng=${encodeURIComponent(p.lng)}`, {
        headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store",
      });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      if (data.cell) {
        cell.textContent = fmt(S.in_cell, { name: data.cell.name, code: data.cell.code });
        cell.dataset.cell = data.cell.code;
      } else {
        cell.textContent = fmt(S.outside_net, {
          name: data.nearest ? data.nearest.name : "—",
          distance: data.distance_m != null ? Math.round(data.distance_m) : "—",
        });
        cell.dataset.cell = "";
      }
    } catch (e) {
      cell.textContent = S.cell_offline;
    }
  }

  function reportPageStart() {
    const form = document.getElementById("report-form");
    if (!form) return;
    form.elements.self_handle.addEventListener("change", () => selfHandleDraw(form));
    selfHandleDraw(form);
    const locate = () => {
      const where = document.getElementById("report-position");
      where.textContent = S.locating;
      position({ timeout: 20000, maximumAge: 30000 }).then((p) => {
        form._position = p;
        locateDraw(form, p);
      }, (err) => {
        form._position = null;
        where.textContent = fmt(S.position_failed, { reason: positionReason(err) });
      });
    };
    document.getElementById("report-locate").addEventListener("click", locate);
    locate();
  }

  // --- start --------------------------------------------------------------------------------------

  function start() {
    const ok = support();
    bannerStart();
    workerStart();
    if (!ok) {
      for (const form of document.querySelectorAll("form[data-outbox]")) {
        for (const b of form.querySelectorAll("button")) b.disabled = true;
      }
      return;
    }
    formsStart();
    taskPageStart();
    reportPageStart();
    window.addEventListener("outbox:change", () => redraw());
    window.addEventListener("outbox:sent", (ev) => {
      redraw();
      // My reports: a report that became a case is listed by the platform (no form to lose here).
      if (document.getElementById("report-list") || document.getElementById("reports-title")) {
        // Once nothing more waits: a reload would cut a send short (harmless, but slow).
        Outbox.all().then((entries) => {
          if (!mine(entries).some(Outbox.isPending)) setTimeout(() => location.reload(), 800);
        });
      }
    });
    storageAsk();
    redraw();
  }

  window.FieldUI = { S, C, fmt, hhmm, ago, el, entryItem, listFill, redraw, storage, banner };
  start();
})();
