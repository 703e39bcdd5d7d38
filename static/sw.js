// Skillpath's service worker: keeps the learner's last progress page readable offline, marked
// with the time it was fetched. Only that page (and the site's own hashed files) is kept; it is
// forgotten on logout, and whenever the server answers for someone no longer logged in.
"use strict";
var PAGES = "skillpath-pages-v1";
var FILES = "skillpath-files-v1";
var KEPT = "/progress";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function forget() { return caches.delete(PAGES); }

function offlineCopy() {
  return caches.open(PAGES).then(function (cache) {
    return cache.match(KEPT);
  }).then(function (kept) {
    if (!kept) { return null; }
    var fetched = new Date(kept.headers.get("x-fetched-at") || Date.now());
    return kept.text().then(function (html) {
      var english = html.indexOf('<html lang="en"') !== -1;
      var when = fetched.toLocaleString(english ? "en-GB" : "zh-CN",
        { timeZone: "Asia/Shanghai", dateStyle: "long", timeStyle: "short" });
      var banner = '<p class="offline" role="status" id="offline-notice">' +
        (english ? "Offline: this is your progress as fetched on " + when + "."
                 : "当前离线：以下是 " + when + " 获取的进度。") + "</p>";
      var page = html.replace('<main id="main">', '<main id="main">' + banner);
      return new Response(page, {
        status: 200,
        headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (url.pathname === "/logout" || url.pathname === "/login") {
    // The request itself goes its own way; the kept page is forgotten meanwhile.
    event.waitUntil(forget());
    return;
  }
  if (request.method !== "GET") { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.open(FILES).then(function (cache) {
      return cache.match(request).then(function (hit) {
        return hit || fetch(request).then(function (response) {
          if (response.ok) { cache.put(request, response.clone()); }
          return response;
        });
      });
    }));
    return;
  }
  if (request.mode !== "navigate" || url.pathname !== KEPT) { return; }
  // Taken now: an event's lifetime may be extended only while it is being dispatched.
  var settle;
  event.waitUntil(new Promise(function (resolve) { settle = resolve; }));
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && !response.redirected && new URL(response.url).pathname === KEPT) {
      var copy = response.clone();
      settle(copy.text().then(function (html) {
        return caches.open(PAGES).then(function (cache) {
          return cache.put(KEPT, new Response(html, {
            headers: { "content-type": "text/html; charset=utf-8",
                       "x-fetched-at": new Date().toISOString() }
          }));
        });
      }));
      return response;
    }
    settle();
    if (response.status >= 500) {
      return offlineCopy().then(function (kept) { return kept || response; });
    }
    return response;
  }, function () {
    settle();
    return offlineCopy().then(function (kept) {
      return kept || Response.error();
    });
  }));
});
