// The app shell, cached so that /app opens with no network. Data lives in IndexedDB, not here.
const VERSION = "naryad-app-1";
const SHELL = [
  "/app/",
  "/app/manifest.webmanifest",
  "/app/static/app.css",
  "/app/static/app.js",
  "/app/static/store.js",
  "/app/static/sync.js",
  "/app/static/checklist.js",
  "/app/static/engine.js",
  "/app/static/photos.js",
  "/app/static/i18n.js",
  "/app/static/i18n/kk.json",
  "/app/static/i18n/ru.json",
  "/app/static/i18n/en.json",
  "/app/static/icon-192.png",
  "/app/static/icon-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    // All or nothing: a half-cached shell would not open offline, so the old worker stays.
    caches.open(VERSION)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith("/app/") && url.pathname !== "/app") return;
  // Network first (fresh code when online), the cache when offline.
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(VERSION).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() =>
        caches.match(event.request, { ignoreSearch: true })
          .then((hit) => hit || caches.match("/app/")),
      ),
  );
});
