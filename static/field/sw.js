// The field app's service worker (issue 16), served at /field/sw.js by
// enforcement.views.field with ``self.FIELD_SW`` set before this file: the cache version and
// the app shell (the static files every field page needs, by their served names).
//
// - Install: the app shell and the outbox page are cached; activate: every older cache of the
//   field is deleted, and the field pages open now are cached.
// - Pages (GET, HTML): network first; a copy is kept of every page opened; offline (or when the
//   network is slower than NAV_DEADLINE_MS and a copy exists) the copy is served and the page
//   told so, to show "offline, as of HH:MM". A login page or an error is never kept.
// - Static files: cache first (their names change with their content). A case's photos opened
//   from a field page: cache first too (evidence never changes).
// - Never touches anything but GET: the outbox posts from the page (IndexedDB), not from here
//   (a replayed multipart POST can lose its body).
/* global FIELD_SW */
"use strict";

const CONFIG = self.FIELD_SW || { version: "dev", shell: [], pages: [], scope: "/field/", evidence_prefix: "/cases/" };
const PREFIX = "shaoxiang-field-";
const SHELL_CACHE = `${PREFIX}shell-${CONFIG.version}`;
const PAGES_CACHE = `${PREFIX}pages-${CONFIG.version}`;
// How long a page waits for the network before its copy is shown (with "shown from this phone's
// copy of HH:MM" and a reload once the network's answer is cached): short enough that a slow
// 3G repeat load is drawn within a second (bench/field_pages.py), long enough that a good
// network always gives the fresh page.
const NAV_DEADLINE_MS = 400;
const EVIDENCE = /^\/cases\/[^/]+\/evidence\/\d+\/$/;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL_CACHE);
    await shell.addAll(CONFIG.shell);
    const pages = await caches.open(PAGES_CACHE);
    // A page the user may not open (another role's) is left out, not a failed install.
    await Promise.all(CONFIG.pages.map((url) => pageKeep(pages, url)));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const keep = new Set([SHELL_CACHE, PAGES_CACHE]);
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && !keep.has(name)) await caches.delete(name);
    }
    await self.clients.claim();
    // The page that registered this worker was loaded before it: keep it now.
    const pages = await caches.open(PAGES_CACHE);
    const windows = await self.clients.matchAll({ type: "window" });
    await Promise.all(windows.map((client) => {
      const url = new URL(client.url);
      return url.pathname.startsWith(CONFIG.scope) ? pageKeep(pages, url.pathname + url.search) : null;
    }));
  })());
});

function keepable(response) {
  return response && response.ok && response.status === 200 && !response.redirected &&
    response.type === "basic";
}

async function pageKeep(cache, url) {
  try {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (keepable(response)) await cache.put(url, response);
  } catch (e) {
    // offline: kept the next time it is opened
  }
}

// The page asks to keep URLs it showed before this worker controlled it (itself, its photos).
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "keep" && Array.isArray(data.urls)) {
    // ``fresh_ms``: a copy older than this is fetched again (none: a copy is enough).
    const freshMs = Number(data.fresh_ms) || 0;
    event.waitUntil((async () => {
      const pages = await caches.open(PAGES_CACHE);
      for (const raw of data.urls.slice(0, 50)) {
        const url = new URL(raw, self.location.origin);
        if (url.origin !== self.location.origin) continue;
        if (!url.pathname.startsWith(CONFIG.scope) && !EVIDENCE.test(url.pathname)) continue;
        const key = url.pathname + url.search;
        const copy = await pages.match(key);
        const age = copy ? Date.now() - Date.parse(copy.headers.get("Date") || 0) : Infinity;
        if (!copy || (freshMs && !(age < freshMs))) await pageKeep(pages, key);
      }
    })());
  } else if (data.type === "forget-pages") {
    // Logging out: the pages of this user are not for the next one.
    event.waitUntil(caches.delete(PAGES_CACHE));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // POSTs go to the network untouched
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (CONFIG.shell.includes(url.pathname)) {
    event.respondWith(cacheFirst(request, SHELL_CACHE));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request, SHELL_CACHE));
  } else if (EVIDENCE.test(url.pathname)) {
    event.respondWith(cacheFirst(request, PAGES_CACHE));
  } else if (url.pathname.startsWith(CONFIG.scope) && request.mode === "navigate") {
    event.respondWith(networkFirst(event));
  }
  // Everything else (the API, other pages, sw.js itself) goes to the network as usual.
});

async function cacheFirst(request, name) {
  const cache = await caches.open(name);
  const hit = await cache.match(request, { ignoreVary: true });
  if (hit) return hit;
  const response = await fetch(request);
  if (keepable(response)) cache.put(request, response.clone());
  return response;
}

async function tell(clientId, message) {
  if (!clientId) return;
  // The page's client exists once its document is created: ask a few times.
  for (let i = 0; i < 20; i += 1) {
    const client = await self.clients.get(clientId);
    if (client) { client.postMessage(message); return; }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function networkFirst(event) {
  const request = event.request;
  const key = new URL(request.url).pathname + new URL(request.url).search;
  const clientId = event.resultingClientId || event.clientId;
  return (async () => {
    const cache = await caches.open(PAGES_CACHE);
    const network = fetch(request).then(async (response) => {
      if (keepable(response)) await cache.put(key, response.clone());
      return response;
    });
    const copy = await cache.match(key, { ignoreVary: true });
    if (!copy) {
      try {
        return await network;
      } catch (e) {
        return offlineAnswer();
      }
    }
    // A copy exists: the network's answer if it comes soon, else the copy (and the page is
    // told when the network's answer is in the cache, to offer a reload).
    let late = false;
    const deadline = new Promise((resolve) => setTimeout(() => resolve("late"), NAV_DEADLINE_MS));
    try {
      const first = await Promise.race([network, deadline]);
      if (first !== "late") return first;
      late = true;
    } catch (e) {
      event.waitUntil(tell(clientId, { type: "from-cache", offline: true }));
      return copy;
    }
    event.waitUntil(tell(clientId, { type: "from-cache", offline: false }));
    event.waitUntil(network.then((response) => {
      if (late && keepable(response)) return tell(clientId, { type: "fresh-ready" });
      return null;
    }, () => tell(clientId, { type: "from-cache", offline: true })));
    return copy;
  })();
}

function offlineAnswer() {
  const body = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" " +
    "content=\"width=device-width, initial-scale=1\"><title>Offline · 离线</title></head><body>" +
    "<main><h1>Offline · 离线</h1><p>This page was not opened on this phone before. " +
    "此页面尚未在本机打开过，联网后再试。</p><p><a href=\"" + CONFIG.scope + "outbox/\">Outbox · 待发送</a></p>" +
    "</main></body></html>";
  return new Response(body, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}
