// The field's outbox (issue 16): every action the phone takes is an entry kept in IndexedDB
// until the platform has it, then sent to the REST API, one at a time in creation order.
//
// Storage: database "shaoxiang-field", object store "outbox" (idb-keyval's createStore), one
// record per entry, keyed by the entry's UUID (also its Idempotency-Key). An entry:
//   { key, seq, user, action ("arrive"|"resolve"|"report"|"self_handle"), url, case (number
//     or null), label, based_on_version, chain ("<number>:<based_on_version>" of the first
//     pending entry of that case), send_version (the If-Match to send; null while an earlier
//     entry of its chain is pending), after_conflict (null, or the based_on_version once its
//     author applies it to the current version), captured_at (ISO 8601), fields ([name,
//     value] pairs, fixed at capture), files ([{field, name, type, size, sha256, blob}]),
//     snapshot (the case as the page showed it: status, status_label, officer, team, version),
//     display (what the outbox page shows of it: matter, description, result, handling_mode), state, attempts, next_attempt_at (ms), last_error,
//     last_status, problem ({title, detail, errors} of a refusal or a conflict), created_at,
//     last_attempt_at, done_at, result ({number, status, status_label, version (the ETag),
//     made_version (the version this entry made), replayed, self_handle_refused}) }
// States: queued, sending, waiting (retry after a backoff, or after logging in again),
// conflict (409/412: kept for its author, never forced), refused (400/403/404/413/422),
// blocked (behind a conflict or a refusal of the same case), done (kept 24 hours without its
// photos, then forgotten).
//
// Never lost: an entry leaves the store only when the platform has it (done, then pruned) or
// when its author discarded it and the platform recorded the discard. Never twice as new work:
// every try of an entry sends the same key and the same body; the platform answers a repeat
// from its record (Idempotent-Replayed), counted done once. Never forced: a conflict waits for
// its author, and the later entries of its case wait behind it.
(() => {
  "use strict";
  if (!window.idbKeyval || !window.indexedDB) {
    window.FieldOutbox = null;
    return;
  }
  const { createStore, promisifyRequest } = window.idbKeyval;
  const DB_NAME = "shaoxiang-field";
  const STORE_NAME = "outbox";
  const store = createStore(DB_NAME, STORE_NAME);
  const LOCK_NAME = "shaoxiang-field-outbox";
  const DONE_KEPT_MS = 24 * 3600 * 1000;
  const BACKOFF_MS = [5e3, 15e3, 30e3, 60e3, 120e3, 300e3];
  const SEND_TIMEOUT_MS = 120e3;
  const PENDING = new Set(["queued", "sending", "waiting", "conflict", "refused", "blocked"]);
  const channel = "BroadcastChannel" in window ? new BroadcastChannel(LOCK_NAME) : null;

  function json(id) {
    const el = document.getElementById(id);
    try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
  }
  const config = json("field-config");
  const strings = json("field-strings");
  const discarding = new Set(); // keys whose discard is on its way: the send pass skips them

  // --- storage -------------------------------------------------------------------------------

  function bySeq(a, b) { return (a.seq - b.seq) || (a.key < b.key ? -1 : 1); }

  function readAll() {
    return store("readonly", (s) => promisifyRequest(s.getAll())).then((list) =>
      (list || []).filter((e) => e && e.key).sort(bySeq));
  }

  function get(key) { return store("readonly", (s) => promisifyRequest(s.get(key))); }

  // One read-write transaction: ``work(objectStore, entries)`` gets every entry and may put or
  // delete; the promise settles with work's return value once the transaction has committed.
  function transact(work) {
    return store("readwrite", (s) => new Promise((resolve, reject) => {
      let value;
      const request = s.getAll();
      request.onsuccess = () => {
        try {
          value = work(s, (request.result || []).filter((e) => e && e.key).sort(bySeq));
        } catch (err) {
          s.transaction.abort();
          reject(err);
        }
      };
      s.transaction.oncomplete = () => resolve(value);
      s.transaction.onabort = s.transaction.onerror = () => reject(s.transaction.error);
    }));
  }

  function changed(detail) {
    window.dispatchEvent(new CustomEvent("outbox:change", { detail: detail || {} }));
    if (channel) channel.postMessage({ type: "change" });
  }
  if (channel) {
    channel.onmessage = (ev) => {
      if (ev.data && ev.data.type === "change") {
        window.dispatchEvent(new CustomEvent("outbox:change", { detail: { remote: true } }));
      }
    };
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // The pending entries of ``number`` by ``user``, in order.
  function pendingOf(entries, number, user) {
    return entries.filter((e) => e.case === number && e.user === user && PENDING.has(e.state));
  }

  // Queue a new entry. ``draft``: action, url, case, label, based_on_version (the page's),
  // page_drawn_at (ISO, when the page was drawn), captured_at, fields, files, snapshot,
  // display. Its version and its place in its case's chain are settled in the same transaction
  // as its insertion: two tabs queuing at once cannot both be a chain's head, and an entry of
  // this case sent since the page was drawn (a page from the cache) counts, even one that
  // finished an instant before.
  function add(draft) {
    const entry = {
      key: uuid(),
      user: config.user || "",
      action: draft.action,
      url: draft.url,
      case: draft.case || null,
      label: draft.label || draft.action,
      based_on_version: draft.case ? Number(draft.based_on_version) : null,
      chain: null,
      send_version: null,
      after_conflict: null,
      captured_at: draft.captured_at,
      fields: draft.fields || [],
      files: draft.files || [],
      snapshot: draft.snapshot || null,
      display: draft.display || {},
      state: "queued",
      attempts: 0,
      next_attempt_at: 0,
      last_error: "",
      last_status: 0,
      problem: null,
      created_at: new Date().toISOString(),
      last_attempt_at: null,
      done_at: null,
      result: null,
    };
    const drawn = Date.parse(draft.page_drawn_at || 0) || 0;
    return transact((s, entries) => {
      entry.seq = entries.reduce((max, e) => Math.max(max, e.seq || 0), 0) + 1;
      if (entry.case) {
        for (const e of entries) {
          const made = e.result && e.result.made_version;
          if (e.case === entry.case && e.user === entry.user && e.state === "done" && made
              && made > entry.based_on_version && Date.parse(e.done_at) > drawn) {
            entry.based_on_version = made;
          }
        }
        const pending = pendingOf(entries, entry.case, entry.user);
        if (pending.length) {
          entry.chain = pending[0].chain;
        } else {
          entry.chain = `${entry.case}:${entry.based_on_version}`;
          entry.send_version = entry.based_on_version;
        }
      }
      s.put(entry, entry.key);
      return entry;
    }).then((saved) => { changed({ key: saved.key, added: true }); return saved; });
  }

  // Change fields of an entry (never its capture), unless it is gone or done meanwhile.
  function patch(key, changes) {
    return transact((s, entries) => {
      const entry = entries.find((e) => e.key === key);
      if (!entry || entry.state === "done") return null;
      Object.assign(entry, changes);
      s.put(entry, key);
      return entry;
    }).then((entry) => { changed({ key }); return entry; });
  }

  // The entry reached the platform: done once (a second call changes nothing), its photos
  // dropped, and the next pending entry of its chain given the version to send against.
  function complete(key, result, nextVersion) {
    return transact((s, entries) => {
      const entry = entries.find((e) => e.key === key);
      if (!entry || entry.state === "done") return { entry, first: false };
      entry.state = "done";
      entry.done_at = new Date().toISOString();
      entry.result = result;
      entry.last_error = "";
      entry.problem = null;
      entry.files = entry.files.map(({ blob, ...kept }) => kept);
      s.put(entry, key);
      const next = entry.chain && entries.find((e) =>
        e.key !== key && e.chain === entry.chain && e.user === entry.user &&
        PENDING.has(e.state) && e.seq > entry.seq);
      if (next && next.send_version == null && nextVersion != null) {
        next.send_version = nextVersion;
        s.put(next, next.key);
      }
      return { entry, first: true };
    }).then((outcome) => { changed({ key, done: true }); return outcome; });
  }

  // Forget a discarded entry (after the platform recorded the discard): the next entry of its
  // chain is sent against the version the discarded one would have been.
  function forget(key) {
    return transact((s, entries) => {
      const entry = entries.find((e) => e.key === key);
      if (!entry) return null;
      const next = entry.chain && entries.find((e) =>
        e.key !== key && e.chain === entry.chain && e.user === entry.user &&
        PENDING.has(e.state) && e.seq > entry.seq);
      if (next && next.send_version == null) {
        next.send_version = entry.send_version;
        s.put(next, next.key);
      }
      s.delete(key);
      return entry;
    }).then((entry) => { changed({ key, removed: true }); return entry; });
  }

  function prune() {
    const before = Date.now() - DONE_KEPT_MS;
    return transact((s, entries) => {
      let n = 0;
      for (const e of entries) {
        if (e.state === "done" && Date.parse(e.done_at) < before) { s.delete(e.key); n += 1; }
      }
      return n;
    }).then((n) => { if (n) changed({ pruned: n }); return n; });
  }

  // --- sending -------------------------------------------------------------------------------

  function cookie(name) {
    const found = document.cookie.split(";").map((c) => c.trim())
      .find((c) => c.startsWith(name + "="));
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  function etagVersion(response) {
    const tag = response.headers.get("ETag") || "";
    const match = tag.match(/^(?:W\/)?"(\d+)"$/);
    return match ? Number(match[1]) : null;
  }

  async function problemOf(response) {
    try {
      const body = await response.json();
      return {
        title: String(body.title || ""),
        detail: String(body.detail || ""),
        errors: body.errors && typeof body.errors === "object" ? body.errors : null,
      };
    } catch (e) {
      return { title: response.statusText || String(response.status), detail: "", errors: null };
    }
  }

  function problemText(problem) {
    if (!problem) return "";
    const parts = [problem.detail || problem.title];
    if (problem.errors) {
      for (const [field, messages] of Object.entries(problem.errors)) {
        const text = Array.isArray(messages) ? messages.join(" ") : String(messages);
        if (text && text !== problem.detail) parts.push(field === "detail" ? text : `${field}: ${text}`);
      }
    }
    return parts.filter(Boolean).join(" · ");
  }

  // A 401/403 that is about the session, not about the entry: the entry waits for a login.
  function sessionProblem(status, problem) {
    if (status === 401) return true;
    if (status !== 403) return false;
    const detail = (problem && problem.detail) || "";
    return /credentials were not provided|CSRF|not authenticated|身份认证|登录/i.test(detail);
  }

  function backoff(attempts) {
    const base = BACKOFF_MS[Math.min(attempts, BACKOFF_MS.length) - 1] || BACKOFF_MS[0];
    return base + Math.round(Math.random() * base * 0.2);
  }

  // One try of one entry: what came of it, never throwing.
  async function post(entry) {
    const body = new FormData();
    for (const [name, value] of entry.fields) body.append(name, value);
    if (entry.after_conflict != null) body.append("after_conflict", String(entry.after_conflict));
    for (const file of entry.files) {
      if (!file.blob) return { kind: "refused", status: 0, problem: { title: "", detail: "photo missing", errors: null } };
      body.append(file.field, file.blob, file.name);
    }
    const headers = {
      "Idempotency-Key": entry.key,
      "X-CSRFToken": cookie("csrftoken"),
      Accept: "application/json",
    };
    if (entry.case) headers["If-Match"] = `"${entry.send_version}"`;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), SEND_TIMEOUT_MS);
    let response;
    try {
      response = await fetch(entry.url, {
        method: "POST", body, headers, credentials: "same-origin", redirect: "manual",
        cache: "no-store", signal: abort.signal,
      });
    } catch (err) {
      return { kind: "retry", status: 0, error: "network" };
    } finally {
      clearTimeout(timer);
    }
    const status = response.status;
    if (response.type === "opaqueredirect" || (status >= 300 && status < 400)) {
      return { kind: "login", status };
    }
    if (status >= 200 && status < 300) {
      let data = null;
      try { data = await response.json(); } catch (e) { data = null; }
      if (!data || typeof data !== "object" || !data.number) {
        // Not the platform's answer (a captive portal's page, a proxy's): not done, try again.
        // A real answer cut short is no loss: the retry is answered from the platform's record.
        return { kind: "retry", status, error: "unexpected answer" };
      }
      return {
        kind: "done",
        status,
        version: etagVersion(response) ?? (data.version != null ? Number(data.version) : null),
        replayed: response.headers.get("Idempotent-Replayed") === "true",
        data,
      };
    }
    const problem = await problemOf(response);
    if (status === 409 || status === 412) return { kind: "conflict", status, problem };
    if (sessionProblem(status, problem)) return { kind: "login", status, problem };
    if (status === 408 || status === 429 || status >= 500) return { kind: "retry", status, problem };
    return { kind: "refused", status, problem };
  }

  const status = { needsLogin: false, offline: false, lastPass: null, sending: null };

  function setStatus(changes) {
    Object.assign(status, changes);
    window.dispatchEvent(new CustomEvent("outbox:status", { detail: { ...status } }));
  }

  async function pass(force) {
    await prune();
    const me = config.user || "";
    const stopped = new Set();
    const entries = await readAll();
    for (const listed of entries) {
      const entry = await get(listed.key);
      if (!entry || entry.state === "done" || entry.user !== me || discarding.has(entry.key)) continue;
      const number = entry.case;
      if (number && stopped.has(number)) {
        if (entry.state !== "blocked") await patch(entry.key, { state: "blocked" });
        continue;
      }
      if (entry.state === "conflict" || entry.state === "refused") {
        if (number) stopped.add(number);
        continue;
      }
      if (number && entry.send_version == null) {
        // An earlier entry of its chain is not done (another user's, or gone): wait behind it.
        stopped.add(number);
        if (entry.state !== "blocked") await patch(entry.key, { state: "blocked" });
        continue;
      }
      if (!force && entry.next_attempt_at && entry.next_attempt_at > Date.now()) {
        if (entry.state === "blocked") await patch(entry.key, { state: "waiting" });
        break; // in order: the later entries wait for this one's turn
      }
      if (navigator.onLine === false) {
        setStatus({ offline: true });
        if (entry.state !== "queued" && entry.state !== "waiting") await patch(entry.key, { state: "queued" });
        break;
      }
      await patch(entry.key, {
        state: "sending", attempts: (entry.attempts || 0) + 1, last_attempt_at: new Date().toISOString(),
      });
      setStatus({ sending: entry.key });
      const outcome = await post(entry);
      setStatus({ sending: null });
      if (outcome.kind === "done") {
        setStatus({ needsLogin: false, offline: false });
        // Each step bumps the case's version by one. A repeat answered from the platform's
        // record may carry the case as it is now, changed since by the office: the next step
        // of the chain is then sent against the version this entry made, and refused as a
        // conflict instead of being applied over the change.
        let next = outcome.version;
        if (entry.case && (outcome.replayed || next == null)) next = Number(entry.send_version) + 1;
        const result = {
          made_version: entry.case ? next : null, // the version this entry made
          number: outcome.data.number || entry.case || null,
          status: outcome.data.status || null,
          status_label: outcome.data.status_label || null,
          version: outcome.version,
          replayed: outcome.replayed,
          self_handle_refused: outcome.data.self_handle_refused || "",
        };
        const { first } = await complete(entry.key, result, entry.case ? next : null);
        if (first) {
          window.dispatchEvent(new CustomEvent("outbox:sent", { detail: { key: entry.key, result } }));
        }
        continue;
      }
      if (outcome.kind === "conflict" || outcome.kind === "refused") {
        await patch(entry.key, {
          state: outcome.kind, last_status: outcome.status, problem: outcome.problem,
          last_error: problemText(outcome.problem), next_attempt_at: 0,
        });
        setStatus({ offline: false });
        if (number) stopped.add(number);
        continue;
      }
      if (outcome.kind === "login") {
        await patch(entry.key, {
          state: "waiting", last_status: outcome.status, next_attempt_at: 0,
          last_error: strings.state_login || "login", problem: outcome.problem || null,
        });
        setStatus({ needsLogin: true, offline: false });
        break;
      }
      // retry: the network, a timeout, the platform busy or failing. Same key, same body later.
      const attempts = (entry.attempts || 0) + 1;
      await patch(entry.key, {
        state: "waiting", last_status: outcome.status,
        last_error: outcome.problem ? problemText(outcome.problem) : (outcome.error || String(outcome.status)),
        next_attempt_at: Date.now() + backoff(attempts),
      });
      setStatus({ offline: outcome.status === 0 });
      break;
    }
    setStatus({ lastPass: new Date().toISOString() });
  }

  let running = null;
  let again = null; // null, or whether the pass asked for meanwhile was forced

  // Run a send pass now (``force``: without waiting for the backoff), one at a time in this
  // page and, where the browser has Web Locks, in all of this site's pages.
  function sendNow(force) {
    if (running) {
      again = Boolean(again) || Boolean(force);
      return running;
    }
    const run = () => pass(Boolean(force));
    const locked = navigator.locks
      ? navigator.locks.request(LOCK_NAME, { ifAvailable: true }, (lock) => (lock ? run() : null))
      : run();
    running = Promise.resolve(locked).catch((err) => {
      console.warn("outbox: send pass failed", err);
    }).finally(() => {
      running = null;
      if (again !== null) { const forced = again; again = null; sendNow(forced); }
    });
    return running;
  }

  // --- what the pages do with entries --------------------------------------------------------

  // Send the entry again against the case as it is now (its author saw both versions and
  // chose so): If-Match the current version, ``after_conflict`` the version it was based on.
  async function applyToCurrent(key) {
    const entry = await get(key);
    if (!entry) return null;
    let current = null;
    if (entry.case) {
      current = await caseNow(entry.case);
      if (!current || current.version == null) throw new Error("offline");
    }
    await patch(key, {
      state: "queued",
      send_version: current ? current.version : entry.send_version,
      after_conflict: entry.case ? entry.based_on_version : null,
      next_attempt_at: 0,
      problem: null,
      last_error: "",
    });
    return sendNow(true);
  }

  // The case as the platform has it now: its JSON with the version of its ETag, null offline.
  async function caseNow(number) {
    const url = (config.case_url || "/api/v1/cases/{number}/").replace("{number}", encodeURIComponent(number));
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store",
      });
      if (!response.ok) return { unavailable: true, status: response.status };
      const data = await response.json();
      const version = etagVersion(response);
      return { ...data, version: version ?? data.version };
    } catch (e) {
      return null;
    }
  }

  // Discard: the platform records it first (POST the discard record), then the entry is
  // forgotten here. Offline, or refused, the entry stays. Resolves with {ok, problem}.
  async function discard(key, reason) {
    const entry = await get(key);
    if (!entry) return { ok: true };
    if (entry.state === "done" || status.sending === key) return { ok: false, problem: null };
    discarding.add(key);
    try {
      return await discardSend(entry, reason);
    } finally {
      discarding.delete(key);
    }
  }

  async function discardSend(entry, reason) {
    const key = entry.key;
    const body = new FormData();
    body.append("key", entry.key);
    body.append("action", entry.action);
    if (entry.case) body.append("case", entry.case);
    body.append("captured_at", entry.captured_at);
    if (entry.based_on_version != null) body.append("based_on_version", String(entry.based_on_version));
    if (reason) body.append("reason", reason);
    let response;
    try {
      response = await fetch(config.discard_url || "/api/v1/field-entries/discard/", {
        method: "POST",
        body,
        headers: {
          // A key of its own (the entry's key may be the platform's record of the entry itself);
          // the platform refuses to discard an entry it applied (400), whatever the key.
          "Idempotency-Key": `discard-${entry.key}`,
          "X-CSRFToken": cookie("csrftoken"),
          Accept: "application/json",
        },
        credentials: "same-origin", redirect: "manual", cache: "no-store",
      });
    } catch (e) {
      return { ok: false, offline: true };
    }
    if (response.status >= 200 && response.status < 300) {
      await forget(key);
      sendNow(false); // the entries behind it may go now
      return { ok: true };
    }
    const problem = response.type === "opaqueredirect" ? null : await problemOf(response);
    if (response.type === "opaqueredirect" || sessionProblem(response.status, problem)) {
      setStatus({ needsLogin: true });
      return { ok: false, login: true, problem };
    }
    return { ok: false, problem, text: problemText(problem) };
  }

  function retry(key) {
    return patch(key, { state: "queued", next_attempt_at: 0 }).then(() => sendNow(true));
  }

  // --- the loop ------------------------------------------------------------------------------

  function start() {
    window.addEventListener("online", () => { setStatus({ offline: false }); sendNow(true); });
    window.addEventListener("offline", () => setStatus({ offline: true }));
    setInterval(() => sendNow(false), 60e3);
    // A page shown again from the back-forward cache, or brought back to the front.
    window.addEventListener("pageshow", (ev) => { if (ev.persisted) sendNow(false); });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") sendNow(false);
    });
    sendNow(false);
  }

  window.FieldOutbox = {
    DB_NAME, STORE_NAME, PENDING,
    config, status,
    all: readAll, get, add, patch, retry, discard, applyToCurrent, caseNow,
    sendNow, problemText,
    isPending: (e) => PENDING.has(e.state),
  };
  if (config.user) start();
})();
