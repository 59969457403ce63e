// Talking to the server: tokens, the operation queue, photo uploads, pull.
// Every write is an operation with its own id, stored before it is sent; the server applies
// each id at most once, so a batch is simply sent again (same Idempotency-Key) until answered.
import { kv, ops, photos, newId } from "./store.js";
import { lang, t } from "./i18n.js";

const BATCH = 25;
// Uploads of one photo before it is given up: the phone still holds the bytes, so a loss or
// damage on the way is sent again as a new upload; a third failure asks for a new photo.
const UPLOAD_ATTEMPTS = 3;
const MAX_DELAY_MS = 60000;

export class Offline extends Error {}
export class Unauthorized extends Error {}

export async function login(username, password) {
  let device = await kv.get("device_id");
  if (!device) {
    device = newId();
    await kv.set("device_id", device);
  }
  const response = await fetch("/api/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password, device_id: device, app_version: "app-1" }),
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw Object.assign(new Error(problem.detail || response.statusText), { status: response.status });
  }
  const tokens = await response.json();
  await kv.set("session", { ...tokens, username });
  return tokens;
}

async function refresh(session) {
  const response = await fetch("/api/v1/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: session.refresh_token }),
  });
  if (!response.ok) throw new Unauthorized();
  const tokens = await response.json();
  const next = { ...session, ...tokens };
  await kv.set("session", next);
  return next;
}

// A call to the API with the technician's token; refreshes once on 401; Offline on no network.
export async function api(path, { method = "GET", body, key, headers = {} } = {}) {
  let session = await kv.get("session");
  if (!session) throw new Unauthorized();
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const all = { Authorization: `Bearer ${session.access_token}`, "Accept-Language": lang(), ...headers };
    if (body !== undefined) all["Content-Type"] = "application/json";
    if (key) all["Idempotency-Key"] = key;
    let response;
    try {
      response = await fetch(path, { method, headers: all, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new Offline();
    }
    if (response.status === 401 && attempt === 0) {
      session = await refresh(session);
      continue;
    }
    if (response.status === 401) throw new Unauthorized();
    return response;
  }
  throw new Unauthorized();
}

// Queue one operation: stored first; sent by flush().
export async function record(type, visitId, payload = {}, { location, photoRefs } = {}) {
  const op = { id: newId(), type, visit_id: visitId, device_time: new Date().toISOString(), payload };
  if (location) op.location = location;
  await ops.add({ id: op.id, op, photo_refs: photoRefs || [], state: "queued", made_at: Date.now() });
  return op.id;
}

export async function pending() {
  return (await ops.all()).filter((r) => r.state === "queued");
}

// Operations and photos the server has not answered yet.
export async function waiting() {
  const photosLeft = (await photos.all()).filter((p) => p.state !== "stored" && p.state !== "rejected").length;
  return (await pending()).length + photosLeft;
}

// The server is busy or failing, or still running this very request (409 with Retry-After):
// ask again after the back-off, nothing is wrong with the photo.
function later(response) {
  return response.status >= 500 || response.status === 429 || (response.status === 409 && response.headers.has("Retry-After"));
}

// Send the photo's bytes again as a new upload (new keys, a new URL), or give it up once it
// has failed UPLOAD_ATTEMPTS times.
function startOver(photo) {
  photo.attempts = (photo.attempts || 0) + 1;
  if (photo.attempts >= UPLOAD_ATTEMPTS) {
    photo.state = "rejected";
    photo.reason = t("photo_upload_refused");
    return;
  }
  photo.server_id = null;
  photo.start_key = newId();
  photo.confirm_key = newId();
  photo.state = "queued";
}

// Photos first: start (Idempotency-Key = the photo's own key), PUT the bytes, confirm.
async function uploadPhotos(report) {
  for (const photo of await photos.all()) {
    if (photo.state === "stored" || photo.state === "rejected") continue;
    if (!photo.server_id) {
      const started = await api("/mobile/v1/photos/uploads", {
        method: "POST",
        key: photo.start_key,
        body: { visit_id: photo.visit_id, sha256: photo.sha256, size: photo.size, content_type: photo.type, step_id: photo.step_id },
      });
      if (later(started)) {
        report.photoFailures.push(photo); // the server's trouble: asked again after the back-off
        continue;
      }
      if (!started.ok) {
        const problem = await started.json().catch(() => ({}));
        photo.state = "rejected";
        photo.reason = problem.detail || started.statusText;
        await photos.put(photo);
        report.photoFailures.push(photo);
        continue;
      }
      const view = await started.json();
      photo.server_id = view.id;
      photo.upload = view.upload;
      photo.state = "started";
      await photos.put(photo);
    }
    if (photo.state === "started") {
      let put;
      try {
        put = await fetch(photo.upload.url, { method: "PUT", headers: photo.upload.headers || {}, body: photo.blob });
      } catch {
        throw new Offline();
      }
      if (!put.ok) {
        // Refused by the store (the URL expired after the app was killed, the bytes were
        // damaged on the way): a new upload. A 5xx is tried again as it is after the back-off.
        if (put.status >= 400 && put.status < 500) startOver(photo);
        await photos.put(photo);
        report.photoFailures.push(photo);
        continue;
      }
      photo.state = "uploaded";
      await photos.put(photo);
    }
    if (photo.state === "uploaded") {
      const confirmed = await api(`/mobile/v1/photos/${photo.server_id}/confirm`, { method: "POST", key: photo.confirm_key });
      const answer = await confirmed.json().catch(() => ({}));
      const reason = answer.detail || answer.status_reason || confirmed.statusText;
      if (confirmed.ok && answer.status === "stored") {
        photo.state = "stored";
        photo.blob = null; // the server has verified the bytes: free the phone's storage
      } else if (later(confirmed)) {
        report.photoFailures.push(photo); // the server's trouble: confirm again after the back-off
      } else if (["not_uploaded", "integrity", "photo_expired"].includes(answer.code)) {
        // Lost or damaged between the phone and the store, or its upload expired while the
        // phone was away; the phone's copy is whole.
        startOver(photo);
        report.photoFailures.push(photo);
      } else {
        photo.state = "rejected";
        photo.reason = reason;
        report.photoFailures.push(photo);
      }
      await photos.put(photo);
    }
  }
}

// Send what is queued: photos, then operations in order, in batches, until all are answered.
// A failure carries the report so far (``error.report``): operations it settled (an answer
// whose photo was given up) must still reach the screens.
export async function flush(onResult = () => {}) {
  const report = { sent: 0, results: [], photoFailures: [] };
  try {
    return await send(report, onResult);
  } catch (error) {
    if (error instanceof Error) error.report = report;
    throw error;
  }
}

async function send(report, onResult) {
  // No batch is made while the phone knows it is offline: the first one online takes it all.
  if (!navigator.onLine) throw new Offline();
  // Photos that cannot go now hold back the answers that need them and, to keep the order the
  // technician worked in, everything recorded after those answers.
  let photoTrouble = null;
  try {
    await uploadPhotos(report);
  } catch (error) {
    if (error instanceof Unauthorized) throw error;
    photoTrouble = error;
  }
  for (;;) {
    let queue = await pending();
    if (!queue.length) break;
    const unanswered = await kv.get("in_flight");
    if (unanswered) {
      // A batch whose answer was lost goes again first, as it was, under its key.
      const again = queue.filter((r) => unanswered.ids.includes(r.id));
      if (again.length === unanswered.ids.length) queue = again;
    }
    const batch = [];
    let settled = 0;
    for (const item of queue.slice(0, BATCH)) {
      // An answer with photos waits until every photo has its server id; one whose photo the
      // server refused is answered here (the step is asked again) instead of blocking the queue.
      const refs = [];
      let ready = true;
      let refused = null;
      for (const ref of item.photo_refs) {
        const photo = await photos.get(ref);
        if (photo && photo.state === "rejected") refused = photo;
        else if (!photo || !photo.server_id || photo.state !== "stored") ready = false;
        else refs.push(photo.server_id);
      }
      if (refused) {
        item.state = "answered";
        item.result = { id: item.id, status: "rejected", code: "photo_refused", message: refused.reason || "" };
        await ops.put(item);
        report.results.push({ ...item.result, type: item.op.type, visit_id: item.op.visit_id, step_id: item.op.payload.step_id });
        onResult(item);
        settled += 1;
        continue;
      }
      if (!ready) break;
      if (item.photo_refs.length) item.op.payload = { ...item.op.payload, photo_ids: refs };
      batch.push(item);
    }
    if (!batch.length) {
      if (settled) continue;
      break;
    }
    // The batch's key is kept with it: a retry after a lost answer replays the same request.
    let inFlight = await kv.get("in_flight");
    if (!inFlight || !inFlight.ids.every((id, i) => batch[i] && batch[i].id === id) || inFlight.ids.length !== batch.length) {
      inFlight = { key: newId(), ids: batch.map((r) => r.id) };
      await kv.set("in_flight", inFlight);
    }
    const response = await api("/mobile/v1/sync/push", {
      method: "POST",
      key: inFlight.key,
      body: { operations: batch.map((r) => r.op) },
    });
    if (!response.ok) {
      const error = new Error(`push ${response.status}`);
      error.status = response.status;
      error.retryAfter = Number(response.headers.get("Retry-After")) || 0;
      throw error;
    }
    const { results } = await response.json();
    const byId = new Map(results.map((r) => [r.id, r]));
    for (const item of batch) {
      const result = byId.get(item.id);
      if (!result) continue;
      item.state = "answered";
      item.result = result;
      await ops.put(item);
      report.results.push({ ...result, type: item.op.type, visit_id: item.op.visit_id, step_id: item.op.payload.step_id });
      onResult(item);
    }
    await kv.del("in_flight");
    report.sent += batch.length;
  }
  if (photoTrouble) throw photoTrouble;
  // A photo the store refused to take goes again (a new upload) after the back-off.
  if (report.photoFailures.some((p) => p.state !== "rejected")) throw new Error("photo upload");
  return report;
}

// Retry with back-off while something is waiting; resumes on its own after a reload.
export function startSyncLoop(onReport, onState) {
  let delay = 2000;
  let timer = null;
  let current = null;
  let again = false;
  async function round() {
    clearTimeout(timer);
    timer = null;
    onState("syncing");
    try {
      const report = await flush();
      delay = 2000;
      await onReport(report);
      onState("idle");
    } catch (error) {
      if (error && error.report && error.report.results.length) await onReport(error.report);
      onState(error instanceof Unauthorized ? "login" : "waiting");
      delay = Math.min(MAX_DELAY_MS, delay * 2) * (0.75 + Math.random() * 0.5);
      if (error && error.retryAfter) delay = Math.max(delay, error.retryAfter * 1000);
      if (!(error instanceof Unauthorized)) timer = setTimeout(now, delay);
    }
  }
  // One round at a time; something recorded during a round is sent by one more round right
  // after it (unless that round failed and a retry is already timed). The promise settles when
  // no round is left, so a caller can wait for the queue to be sent.
  function now() {
    if (current) {
      again = true;
      return current;
    }
    current = (async () => {
      do {
        again = false;
        await round();
      } while (again && timer === null);
      current = null;
    })();
    return current;
  }
  window.addEventListener("online", () => { delay = 2000; now(); });
  return { now };
}

export async function pull() {
  const cursor = await kv.get("cursor");
  const response = await api(`/mobile/v1/sync/pull${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`);
  if (!response.ok) throw new Error(`pull ${response.status}`);
  return response.json();
}

export async function loadDay(from, to) {
  const bundle = await kv.get("bundle");
  const headers = bundle && bundle.from === from ? { "If-None-Match": bundle.etag } : {};
  const response = await api(`/mobile/v1/day?from=${from}&to=${to}`, { headers });
  if (response.status === 304) return bundle;
  if (!response.ok) throw new Error(`day ${response.status}`);
  const fresh = await response.json();
  fresh.from = from;
  await kv.set("bundle", fresh);
  return fresh;
}
