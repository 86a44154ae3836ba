// The outbox page (/field/outbox/): every entry of this phone with its age, state and last
// error; retry and discard (which asks twice: the button turns into "really discard?"); and the
// entries that need attention (a conflict or a refusal) with both versions side by side: mine,
// as captured with the case as the page showed it, and the platform's now.
(() => {
  "use strict";
  const root = document.getElementById("outbox");
  const Outbox = window.FieldOutbox;
  const UI = window.FieldUI;
  if (!root || !Outbox || !UI) return;
  const { S, C, el, entryItem, hhmm } = UI;
  const ARM_MS = 6000;
  const armed = new Map(); // key → timer of a discard button asking "really?"
  const theirs = new Map(); // key → the case as the platform has it now (or null: unavailable)
  const feedback = new Map(); // key → a message to keep showing across redraws

  function facts(rows) {
    const list = el("dl", { class: "field-facts" });
    for (const [term, value] of rows) {
      if (value === null || value === undefined || value === "") continue;
      list.append(el("dt", { text: term }), el("dd", { text: value }));
    }
    return list;
  }

  function fieldOf(entry, name) {
    const pair = (entry.fields || []).find(([k]) => k === name);
    return pair ? pair[1] : "";
  }

  function mineColumn(entry) {
    const snap = entry.snapshot || {};
    const display = entry.display || {};
    const column = el("div", { class: "compare-side compare-mine", "data-compare": "mine" },
      el("h3", { text: S.mine }));
    column.append(facts([
      [S.captured, `${entry.captured_at.slice(0, 10)} ${hhmm(entry.captured_at)}`],
      [S.status, snap.status_label || snap.status],
      [S.officer, snap.officer || "—"],
      [S.team, snap.team],
      [S.version, entry.based_on_version],
      [S.handling_mode, display.handling_mode],
      [S.result, display.result],
      [S.description, display.description],
      [S.position_short, fieldOf(entry, "lat") ? `${Number(fieldOf(entry, "lat")).toFixed(5)}, ${Number(fieldOf(entry, "lng")).toFixed(5)} ±${fieldOf(entry, "accuracy")} m` : ""],
      [S.photos, entry.files && entry.files.length ? String(entry.files.length) : ""],
    ]));
    const photos = (entry.files || []).filter((f) => f.blob);
    if (photos.length) {
      column.append(el("ul", { class: "photo-previews" }, ...photos.map((f, i) =>
        el("li", { class: "photo-preview" }, el("img", { src: URL.createObjectURL(f.blob), alt: `${S.photos} ${i + 1}`, width: 72, height: 72 })))));
    }
    return column;
  }

  function theirsColumn(entry) {
    const column = el("div", { class: "compare-side compare-theirs", "data-compare": "theirs" },
      el("h3", { text: S.theirs }));
    if (!entry.case) return null;
    const now = theirs.get(entry.key);
    if (now === undefined) {
      column.append(el("p", { class: "muted", text: S.loading }));
    } else if (!now || now.unavailable) {
      column.append(el("p", { class: "muted", text: S.now_unavailable }));
    } else {
      column.dataset.version = String(now.version);
      column.append(facts([
        [S.status, now.status_label || now.status],
        [S.officer, now.officer || "—"],
        [S.team, now.team],
        [S.version, now.version],
      ]));
    }
    return column;
  }

  async function theirsLoad(entries, force) {
    const wanted = entries.filter((e) => e.case && e.state === "conflict" && (force || !theirs.has(e.key)));
    await Promise.all(wanted.map(async (e) => { theirs.set(e.key, await Outbox.caseNow(e.case)); }));
    if (wanted.length) draw();
  }

  function attentionItem(entry) {
    const item = entryItem(entry, { actions: true });
    if (entry.problem && (entry.problem.title || entry.problem.detail) && !entry.last_error) {
      item.append(el("p", { class: "entry-error", text: Outbox.problemText(entry.problem) }));
    }
    if (entry.state === "conflict") {
      const compare = el("div", { class: "compare" }, mineColumn(entry));
      const other = theirsColumn(entry);
      if (other) compare.append(other);
      item.querySelector(".entry-buttons").before(compare);
    }
    return item;
  }

  function section(id, items) {
    const box = document.getElementById(id);
    const list = box.querySelector("[data-entry-list]");
    list.replaceChildren(...items);
    box.querySelector("[data-empty-text]").hidden = items.length > 0;
    box.dataset.count = String(items.length);
  }

  function restore(item) {
    const key = item.dataset.entryKey;
    const button = item.querySelector("[data-entry-discard]");
    if (button && armed.has(key)) {
      button.dataset.armed = "true";
      button.textContent = S.discard_really;
    }
    const box = item.querySelector("[data-entry-feedback]");
    if (box && feedback.has(key)) box.textContent = feedback.get(key);
  }

  let latest = [];
  async function draw(entries) {
    if (entries) latest = entries;
    const all = latest;
    const attention = all.filter((e) => e.user === C.user && (e.state === "conflict" || e.state === "refused"));
    const waiting = all.filter((e) => Outbox.isPending(e) && !(e.user === C.user && (e.state === "conflict" || e.state === "refused")));
    const done = all.filter((e) => e.state === "done").reverse();
    section("outbox-attention", attention.map(attentionItem));
    section("outbox-waiting", waiting.map((e) => entryItem(e, { actions: true })));
    section("outbox-done", done.map((e) => entryItem(e)));
    for (const item of root.querySelectorAll("[data-entry-key]")) restore(item);
    root.querySelector("#outbox-attention").classList.toggle("attention-active", attention.length > 0);
  }

  function say(key, message) {
    if (message) feedback.set(key, message); else feedback.delete(key);
    const box = root.querySelector(`[data-entry-key="${CSS.escape(key)}"] [data-entry-feedback]`);
    if (box) box.textContent = message || "";
  }

  function disarm(key) {
    clearTimeout(armed.get(key));
    armed.delete(key);
    const button = root.querySelector(`[data-entry-key="${CSS.escape(key)}"] [data-entry-discard]`);
    if (button) { button.dataset.armed = "false"; button.textContent = S.discard; }
  }

  root.addEventListener("click", async (ev) => {
    const button = ev.target.closest("button");
    if (!button) return;
    if (button.id === "outbox-send-now") {
      Outbox.sendNow(true);
      return;
    }
    const retryKey = button.dataset.entryRetry;
    const applyKey = button.dataset.entryApply;
    const discardKey = button.dataset.entryDiscard;
    if (retryKey) {
      say(retryKey, "");
      await Outbox.retry(retryKey);
    } else if (applyKey) {
      button.disabled = true;
      say(applyKey, S.loading);
      try {
        await Outbox.applyToCurrent(applyKey);
        say(applyKey, "");
        theirs.delete(applyKey);
      } catch (e) {
        say(applyKey, S.now_unavailable);
      } finally {
        button.disabled = false;
      }
    } else if (discardKey) {
      if (!armed.has(discardKey)) {
        // First tap: the button asks again; it calms down by itself after a few seconds.
        armed.set(discardKey, setTimeout(() => disarm(discardKey), ARM_MS));
        button.dataset.armed = "true";
        button.textContent = S.discard_really;
        button.focus();
        return;
      }
      disarm(discardKey);
      button.disabled = true;
      const outcome = await Outbox.discard(discardKey, "");
      button.disabled = false;
      if (outcome.ok) {
        feedback.delete(discardKey);
        const status = document.getElementById("outbox-storage");
        if (status) status.setAttribute("data-last-discarded", discardKey);
      } else if (outcome.offline) {
        say(discardKey, S.discard_offline);
      } else if (outcome.login) {
        say(discardKey, S.login_again);
      } else {
        say(discardKey, outcome.text || S.state_refused);
      }
    }
  });

  window.addEventListener("field:redraw", (ev) => {
    draw(ev.detail.entries);
    theirsLoad(ev.detail.entries, false);
  });
  setInterval(() => draw(), 30e3); // the ages
  window.addEventListener("online", () => theirsLoad(latest, true));
  UI.redraw(); // field.js draws on load too; drawing twice is harmless
})();
