// naryad for technicians: the day, the visit step by step, offline first.
import { kv, ops, photos as photoStore, wipe } from "./store.js";
import { LANGUAGES, useLanguage, t, has, pick, lang } from "./i18n.js";
import { api, login, loadDay, pull, record, pending, waiting, startSyncLoop, Offline, Unauthorized } from "./sync.js";
import { evaluate, check, steps as templateSteps } from "./checklist.js";
import { keep } from "./photos.js";

const main = document.getElementById("main");
const net = document.getElementById("net");
const queueChip = document.getElementById("queue");
const safetyButton = document.getElementById("safety");
let sync = null;
let syncState = "idle";
// The sync screen is redrawn while it is open, as rounds settle (it must not say "waiting"
// under a top bar that says everything was sent).
let onSyncScreen = false;

// --- small DOM helper: no innerHTML with data, no inline handlers (strict CSP) ---------------
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function show(...nodes) {
  safetyButton.hidden = true;
  onSyncScreen = false;
  main.replaceChildren(...nodes.flat(2).filter((n) => n != null && n !== false));
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

// The calendar day (YYYY-MM-DD) of a moment where the technician works (the bundle's zone).
function localDay(date, zone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

function today(offsetDays = 0, zone) {
  return localDay(new Date(Date.now() + offsetDays * 86400000), zone);
}

function time(iso, zone) {
  return new Intl.DateTimeFormat(locale(), { timeZone: zone, hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

// A day name heads a list with a capital; inside a sentence it keeps the catalog's case.
function capitalized(text) {
  return text.charAt(0).toLocaleUpperCase(locale()) + text.slice(1);
}

// Day names from the catalogs: Chromium and many phones have no Kazakh calendar data.
function dayName(iso, zone) {
  const date = new Date(iso);
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: zone, weekday: "short", day: "numeric", month: "numeric" })
    .formatToParts(date).map((p) => [p.type, p.value]));
  const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(parts.weekday);
  const day = localDay(date, zone);
  const relative = day === today(0, zone) ? t("today") : day === today(1, zone) ? t("tomorrow") : t(`weekday_${weekday}`);
  return t("day_format", { weekday: relative, day: Number(parts.day), month: t(`month_${Number(parts.month)}`) });
}

function locale() {
  return { kk: "kk-KZ", ru: "ru-RU", en: "en-GB" }[lang()];
}

// --- network and queue indicators ------------------------------------------------------------
async function refreshIndicators() {
  net.textContent = navigator.onLine ? t("online") : t("offline");
  net.className = navigator.onLine ? "net on" : "net off";
  const total = await waiting();
  // Refused operations stay on the chip until the technician has opened the list.
  const seen = (await kv.get("trouble_seen")) || 0;
  const trouble = (await ops.all()).filter((r) => r.result && (r.result.status === "rejected" || r.result.status === "conflict") && r.seq > seen).length;
  queueChip.hidden = !(await kv.get("session"));
  if (trouble) {
    queueChip.textContent = t("trouble", { n: trouble });
    queueChip.className = "chip bad";
  } else {
    queueChip.textContent = syncState === "syncing" ? t("syncing") : total ? t("queued", { n: total }) : t("all_sent");
    queueChip.className = total ? "chip waiting" : "chip";
  }
}
window.addEventListener("online", refreshIndicators);
window.addEventListener("offline", refreshIndicators);
queueChip.addEventListener("click", () => showSync());

// --- login ------------------------------------------------------------------------------------
function languagePicker(onChange) {
  const select = h("select", { id: "lang", name: "lang" },
    LANGUAGES.map((code) => h("option", { value: code, selected: code === lang() }, t(`lang_${code}`))));
  select.addEventListener("change", async () => {
    await kv.set("lang", select.value);
    await useLanguage(select.value);
    // The bar above the screen (network, queue) is not redrawn with it: say it again too.
    refreshIndicators();
    onChange();
  });
  return h("p", { class: "field" }, h("label", { for: "lang" }, t("language")), select);
}

// `typed`: what the technician had typed when the form is drawn again (a language change).
function showLogin(message = "", typed = { username: "", password: "" }) {
  const error = h("p", { class: "error", role: "alert", id: "login-error" }, message);
  const form = h("form", { class: "card", novalidate: true },
    h("h1", {}, t("login_title")),
    h("p", { class: "field" }, h("label", { for: "username" }, t("username")),
      h("input", { id: "username", name: "username", autocomplete: "username", autocapitalize: "none", required: true })),
    h("p", { class: "field" }, h("label", { for: "password" }, t("password")),
      h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true })),
    error,
    h("button", { type: "submit", class: "primary" }, t("login")),
  );
  form.username.value = typed.username;
  form.password.value = typed.password;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = form.username.value.trim();
    const password = form.password.value;
    if (!username || !password) { error.textContent = t("login_missing"); return; }
    try {
      await login(username, password);
      await kv.set("cursor", null);
      await start();
    } catch (e) {
      error.textContent = e.status === 401 || e.status === 403 ? t("login_wrong") : navigator.onLine ? t("login_failed") : t("login_offline");
    }
  });
  show(form, languagePicker(() => showLogin("", { username: form.username.value, password: form.password.value })));
}

// --- the day ----------------------------------------------------------------------------------
const CHANGE_TEXT = { rescheduled: "change_rescheduled", reassigned: "change_reassigned", cancelled: "change_cancelled", added: "change_added", updated: "change_updated" };

async function refreshDay() {
  const bundle = await kv.get("bundle");
  const zone = bundle ? bundle.time_zone : undefined;
  const fresh = await loadDay(today(0, zone), today(6, zone));
  // Each visit as the technician was last told about it: a change pulled after a fresher bundle
  // (which may already lack a cancelled visit) is still named and compared with what they saw.
  const known = (await kv.get("known_visits")) || {};
  for (const visit of [...(bundle ? bundle.visits : []), ...fresh.visits]) {
    if (!known[visit.visit_id]) known[visit.visit_id] = visit;
  }
  const live = new Set(fresh.visits.map((v) => v.visit_id));
  const kept = Object.entries(known).filter(([id, v]) => live.has(id) || v.window.end >= new Date(Date.now() - 7 * 86400000).toISOString());
  await kv.set("known_visits", Object.fromEntries(kept));
  if (!(await kv.get("cursor"))) {
    // The first pull only sets where changes start; the bundle above is already current.
    const first = await pull();
    await kv.set("cursor", first.cursor);
  }
  return fresh;
}

// Changes first, against the bundle the technician has seen (so a cancelled visit can still be
// named), then the fresh bundle for the week.
async function refreshAll() {
  const count = (await kv.get("cursor")) && (await kv.get("bundle")) ? await applyPull() : 0;
  await refreshDay();
  return count;
}

async function applyPull() {
  const result = await pull();
  const bundle = await kv.get("bundle");
  const seen = (await kv.get("changes")) || [];
  const known = (await kv.get("known_visits")) || {};
  const already = seen.length;
  for (const change of result.changes) {
    const index = bundle.visits.findIndex((v) => v.visit_id === change.visit_id);
    const before = known[change.visit_id] || (index >= 0 ? bundle.visits[index] : null);
    if (change.visit) known[change.visit_id] = change.visit;
    let kind = before ? "updated" : "added";
    if (!change.visit) {
      if (index >= 0) bundle.visits.splice(index, 1);
      kind = change.kind.includes("cancel") ? "cancelled" : "reassigned";
    } else {
      if (before && before.window.start !== change.visit.window.start) kind = "rescheduled";
      if (change.visit.status === "cancelled") kind = "cancelled";
      if (index >= 0) bundle.visits[index] = change.visit;
      else bundle.visits.push(change.visit);
    }
    // Status changes (often the technician's own sync) are not news; the rest is.
    if ((before || change.visit) && kind !== "updated") {
      seen.unshift({ kind, visit_id: change.visit_id, at: Date.now(), visit: change.visit || before, before });
    }
  }
  Object.assign(bundle.templates, result.templates || {});
  bundle.visits.sort((a, b) => a.window.start.localeCompare(b.window.start));
  await kv.set("bundle", bundle);
  await kv.set("changes", seen.slice(0, 20));
  await kv.set("known_visits", known);
  await kv.set("cursor", result.cursor);
  return seen.length - already;
}

function changeNotice(change, zone) {
  const visit = change.visit || {};
  const was = change.before && change.before.window;
  const hours = (window) => `${time(window.start, zone)}–${time(window.end, zone)}`;
  // The old window alone when the visit stays on its day; with the day when it moved to another.
  const sameDay = was && visit.window && localDay(new Date(was.start), zone) === localDay(new Date(visit.window.start), zone);
  const text = t(CHANGE_TEXT[change.kind] || "change_updated", {
    customer: visit.customer ? visit.customer.name : "",
    when: visit.window ? `${dayName(visit.window.start, zone)} ${hours(visit.window)}` : "",
    before: was ? (sameDay ? hours(was) : `${dayName(was.start, zone)} ${hours(was)}`) : "",
  });
  return h("li", { class: `change ${change.kind}` }, text);
}

async function showDay(note = "") {
  const bundle = await kv.get("bundle");
  if (!bundle) { show(h("p", { class: "card" }, t("no_bundle"))); return; }
  const zone = bundle.time_zone;
  const changes = ((await kv.get("changes")) || []).filter((c) => !c.dismissed);
  const status = h("p", { class: "note", role: "status" }, note);
  const refresh = h("button", { type: "button", class: "secondary", id: "refresh" }, t("refresh"));
  refresh.addEventListener("click", async () => {
    status.textContent = t("refreshing");
    try {
      const count = await refreshAll();
      await showDay(count ? t("changes_found", { n: count }) : t("no_changes"));
    } catch (e) {
      status.textContent = e instanceof Offline ? t("refresh_offline") : t("refresh_failed");
      if (e instanceof Unauthorized) showLogin(t("session_over"));
    }
  });
  // An outcome recorded on this phone shows at once, before the server's next bundle (unless
  // the server refused it).
  const declared = new Map();
  for (const record of await ops.all()) {
    const refused = record.result && (record.result.status === "rejected" || record.result.status === "conflict");
    if (record.op.type === "outcome" && !refused) declared.set(record.op.visit_id, record.op.payload.outcome);
  }
  const byDay = new Map();
  for (const visit of bundle.visits) {
    const day = localDay(new Date(visit.window.start), zone);
    if (!byDay.has(day)) byDay.set(day, []);
    byDay.get(day).push(visit);
  }
  const sections = [];
  for (const [, visits] of byDay) {
    sections.push(h("h2", {}, capitalized(dayName(visits[0].window.start, zone))));
    sections.push(h("ol", { class: "visits" }, visits.map((v) => visitCard(v, zone, declared.get(v.visit_id)))));
  }
  const dismiss = h("button", { type: "button", class: "secondary" }, t("changes_seen"));
  dismiss.addEventListener("click", async () => {
    const all = (await kv.get("changes")) || [];
    await kv.set("changes", all.map((c) => ({ ...c, dismissed: true })));
    showDay();
  });
  show(
    h("div", { class: "toolbar" }, h("h1", {}, t("my_day")), refresh),
    status,
    changes.length ? h("section", { class: "changes", "aria-labelledby": "changes-title" },
      h("h2", { id: "changes-title" }, t("changes_title")), h("ul", {}, changes.map((c) => changeNotice(c, zone))), dismiss) : null,
    bundle.visits.length ? sections : h("p", { class: "card" }, t("no_visits")),
    h("p", { class: "zone" }, t("times_in_zone", { zone })),
    h("footer", { class: "footer" }, languagePicker(() => showDay()),
      h("button", { type: "button", class: "link", id: "logout", onclick: logout }, t("logout"))),
  );
}

function navLinks(visit) {
  // Six decimals are a tenth of a metre; more are the float's noise (-122.19999999999999).
  const [lat, lon] = [visit.location.lat, visit.location.lon].map((v) => Number(v.toFixed(6)));
  const label = encodeURIComponent(visit.address);
  return h("span", { class: "nav" },
    h("a", { href: `geo:${lat},${lon}?q=${lat},${lon}(${label})`, class: "button secondary" }, t("navigate")),
    h("a", { href: `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`, class: "button secondary", rel: "noopener", target: "_blank" }, t("map")));
}

function bring(visit) {
  const items = visit.equipment.map((e) => `${e.name}${e.model ? ` ${e.model}` : ""} × ${e.quantity} ${e.unit}`);
  if (!items.length) return null;
  return h("div", { class: "bring" }, h("strong", {}, t("bring")), h("ul", {}, items.map((i) => h("li", {}, i))));
}

const LIVE = new Set(["planned", "en_route", "on_site"]);

function visitCard(visit, zone, declared) {
  const cancelled = visit.status === "cancelled";
  // The server's status once it has moved on; the phone's own outcome while it is still live.
  const status = declared && LIVE.has(visit.status) ? declared : visit.status;
  return h("li", { class: `visit card${cancelled ? " cancelled" : ""}` },
    h("p", { class: "when" }, `${time(visit.window.start, zone)}–${time(visit.window.end, zone)}`,
      h("span", { class: "status" }, t(`status_${status}`))),
    h("p", { class: "who" }, visit.customer.name),
    h("p", { class: "what" }, `${t(`work_${visit.work_type}`)} · ${visit.work_order_number}`),
    h("p", { class: "where" }, visit.address),
    navLinks(visit),
    bring(visit),
    cancelled ? null : h("button", { type: "button", class: "primary", onclick: () => showVisit(visit.visit_id) }, t("open_visit")),
  );
}

async function logout() {
  if ((await pending()).length && !confirm(t("logout_pending"))) return;
  const device = await kv.get("device_id");
  await wipe();
  await kv.set("device_id", device); // the phone stays the same device
  await kv.set("lang", lang());
  showLogin();
}

// --- the visit --------------------------------------------------------------------------------
// Local state of a visit (IndexedDB): the answers as the engine sees them, the outcome's own
// answers while one is being declared, and what has been recorded. The server gets each of
// these as an operation from the queue; this state only drives the screens.
async function visitState(id) {
  const state = (await kv.get(`visit:${id}`)) || {};
  return { answers: {}, outcome_answers: {}, declaring: null, outcome_done: null, arrived: false, draft_photos: {}, ...state };
}

async function saveVisitState(id, state) {
  await kv.set(`visit:${id}`, state);
}

function here() {
  return new Promise((resolve) => {
    if (!("geolocation" in navigator)) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy) }),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });
}

async function context(id) {
  const bundle = await kv.get("bundle");
  const visit = bundle && bundle.visits.find((v) => v.visit_id === id);
  if (!visit) return null;
  const template = bundle.templates[`${visit.checklist.key}@${visit.checklist.version}`];
  const site = visit.location ? { lat: visit.location.lat, lon: visit.location.lon } : null;
  return {
    visit, template, zone: bundle.time_zone, site, all: templateSteps(template),
    photoMaxSide: bundle.photo_max_side_px,
  };
}

function engineOptions(ctx, outcome) {
  return { lang: lang(), site: ctx.site, outcome, contentHash: ctx.visit.checklist.content_hash };
}

// Check with the engine, store locally, queue the operation. Returns the engine's refusal or null.
async function answer(ctx, step, value, extra = {}) {
  const { visit, template } = ctx;
  const state = await visitState(visit.visit_id);
  const entry = { step_id: step.id, answered_at: new Date().toISOString() };
  if (value !== undefined && value !== null) entry.value = value;
  if (extra.location) entry.location = extra.location;
  if (extra.photoRefs) entry.photo_ids = extra.photoRefs;
  const own = step.outcome ? state.outcome_answers : state.answers;
  const outcome = step.outcome ? state.declaring : null;
  const refusal = check(template, step.outcome ? { ...state.answers, ...own } : own, entry, engineOptions(ctx, outcome));
  if (refusal) return refusal;
  if (step.outcome) {
    // An outcome's own steps travel inside the outcome operation (stored only if it is accepted).
    state.outcome_answers = { ...own, [step.id]: entry };
  } else {
    const payload = { step_id: step.id };
    if (entry.value !== undefined) payload.value = entry.value;
    await record("checklist_answer", visit.visit_id, payload, { location: extra.location, photoRefs: extra.photoRefs });
    state.answers = { ...own, [step.id]: entry };
  }
  await saveVisitState(visit.visit_id, state);
  kick();
  return null;
}

function kick() {
  if (sync) sync.now();
  refreshIndicators();
}

function stepInput(ctx, step, state, after) {
  const kind = step.kind;
  const error = h("p", { class: "error", role: "alert" });
  const done = async (value, extra) => {
    const refusal = await answer(ctx, step, value, extra);
    if (refusal) { error.textContent = refusal.message; return; }
    after();
  };
  const given = (step.outcome ? state.outcome_answers : state.answers)[step.id];
  const body = [];
  if (kind === "confirm") {
    body.push(h("button", { type: "button", class: "primary", onclick: () => done(true) }, t("done")));
  } else if (kind === "yes_no") {
    body.push(h("div", { class: "pair" },
      h("button", { type: "button", class: "primary", onclick: () => done(true) }, t("yes")),
      h("button", { type: "button", class: "secondary", onclick: () => done(false) }, t("no"))));
  } else if (kind === "choice") {
    body.push(h("div", { class: "choices" }, (step.options || []).map((o) =>
      h("button", { type: "button", class: "secondary", onclick: () => done(o.value) }, pick(o.label || o.title) || o.value))));
  } else if (kind === "text" || kind === "person_name" || kind === "number") {
    const id = `in-${step.id}`;
    const input = kind === "text"
      ? h("textarea", { id, rows: 3 })
      : h("input", { id, type: "text", inputmode: kind === "number" ? "decimal" : null, autocomplete: "off" });
    if (given && given.value != null) input.value = String(given.value);
    body.push(h("label", { for: id, class: "sr-only" }, pick(step.title)), input,
      h("button", { type: "button", class: "primary", onclick: () => {
        const raw = input.value.trim();
        if (!raw) { error.textContent = t("required"); return; }
        if (kind === "number") {
          const n = Number(raw.replace(",", "."));
          if (!Number.isFinite(n)) { error.textContent = t("number_range", { min: step.min ?? "", max: step.max ?? "" }); return; }
          done(n);
        } else done(raw);
      } }, t("save")));
  } else if (kind === "serial") {
    const count = Math.max(1, step.min_count || 1);
    const inputs = Array.from({ length: count }, (_, i) => h("input", { id: `sn-${step.id}-${i}`, autocomplete: "off", autocapitalize: "characters", "aria-label": `${t("serial")} ${i + 1}` }));
    body.push(...inputs, h("button", { type: "button", class: "primary", onclick: () => {
      const values = inputs.map((i) => i.value.trim().toUpperCase());
      if (values.some((v) => !v)) { error.textContent = t("required"); return; }
      done(values.map((value) => ({ value, method: "typed" })));
    } }, t("save")));
  } else if (kind === "geo_check") {
    body.push(h("button", { type: "button", class: "primary", onclick: async () => {
      error.textContent = t("locating");
      const location = await here();
      if (!location) { error.textContent = t("no_location"); return; }
      done(null, { location });
    } }, t("check_location")));
  } else if (kind === "photo") {
    const need = Math.max(1, step.min_count || 1);
    const taken = (state.draft_photos || {})[step.id] || [];
    const id = `ph-${step.id}`;
    const input = h("input", { id, type: "file", accept: "image/*", capture: "environment", class: "file" });
    input.addEventListener("change", async () => {
      const file = input.files && input.files[0];
      if (!file) return;
      error.textContent = t("photo_processing");
      let photo;
      try {
        photo = await keep(file, ctx.visit.visit_id, step.id, ctx.photoMaxSide);
      } catch {
        error.textContent = t("photo_unreadable");
        return;
      }
      const s = await visitState(ctx.visit.visit_id);
      const refs = [...((s.draft_photos || {})[step.id] || []), photo.local_id];
      s.draft_photos = { ...(s.draft_photos || {}), [step.id]: refs };
      await saveVisitState(ctx.visit.visit_id, s);
      if (refs.length >= need) await done(null, { photoRefs: refs });
      else after();
    });
    body.push(h("p", {}, t("photos_taken", { n: taken.length, need })),
      h("label", { for: id, class: "button primary" }, t("take_photo")), input);
  } else if (kind === "signature") {
    body.push(h("p", { class: "help" }, t("handoff_explain")),
      h("button", { type: "button", class: "primary", id: "handoff", onclick: () => handOff(ctx.visit) }, t("hand_to_customer")));
  } else {
    body.push(h("p", {}, t("unknown_step")));
  }
  return h("section", { class: "step card", "aria-labelledby": `t-${step.id}`, "data-step": step.id, "data-kind": kind },
    h("h2", { id: `t-${step.id}` }, pick(step.title)),
    step.help ? h("p", { class: "help" }, pick(step.help)) : null,
    given ? h("p", { class: "given" }, t("answered")) : null,
    body, error);
}

// The safety exit lives in the sticky bar: one tap away on every screen of a visit.
let safetyVisit = null;
safetyButton.addEventListener("click", () => { if (safetyVisit) showOutcome(safetyVisit, "aborted_safety"); });

function armSafety(id) {
  safetyVisit = id;
  safetyButton.textContent = t("safety_exit");
  safetyButton.hidden = false;
}

function visitHead(ctx, back = () => showDay()) {
  const { visit, zone } = ctx;
  return h("div", { class: "visit-head" },
    h("button", { type: "button", class: "link", onclick: back }, `← ${t("back")}`),
    h("h1", {}, visit.customer.name),
    h("p", {}, `${time(visit.window.start, zone)}–${time(visit.window.end, zone)} · ${visit.address}`),
    visit.access_notes ? h("p", { class: "help" }, visit.access_notes) : null,
    visit.customer.phone ? h("a", { href: `tel:${visit.customer.phone}`, class: "button secondary call" }, t("call_customer")) : null);
}

const ARRIVED_STATUSES = new Set(["on_site", "completed"]);

// Answers this phone did not record itself (another phone's, or this one's before the app was
// reinstalled) are taken from the server once per visit, so the screens do not ask for checks
// already made; the phone's own answers, sent or waiting, stay as they are. Photo answers are
// left out: their ids name photos this phone does not hold.
// Asked at most once per visit while the app runs: every answer draws the visit again, and a
// failed ask (offline, an error) must not make each of those wait for the network.
const serverAsked = new Set();

async function adoptServerAnswers(ctx, state) {
  if (serverAsked.has(ctx.visit.visit_id)) return;
  serverAsked.add(ctx.visit.visit_id);
  try {
    const response = await api(`/mobile/v1/visits/${ctx.visit.visit_id}/checklist?lang=${lang()}`);
    if (!response.ok) return;
    const view = await response.json();
    for (const given of view.answers) {
      const step = ctx.all.get(given.step_id);
      if (!step || step.outcome || state.answers[given.step_id] || (given.photo_ids || []).length) continue;
      const entry = { step_id: given.step_id, answered_at: given.answered_at };
      if (given.value !== null && given.value !== undefined) entry.value = given.value;
      if (given.location) entry.location = given.location;
      state.answers = { ...state.answers, [given.step_id]: entry };
    }
    state.server_read = true;
    await saveVisitState(ctx.visit.visit_id, state);
  } catch {
    // Offline or signed out: the app's next start asks again.
  }
}

async function showVisit(id, note = "") {
  const ctx = await context(id);
  if (!ctx) { showDay(t("visit_gone")); return; }
  const { visit, template, all } = ctx;
  const state = await visitState(id);
  if (!state.server_read && navigator.onLine) await adoptServerAnswers(ctx, state);
  const arrived = state.arrived || ARRIVED_STATUSES.has(visit.status);
  const result = evaluate(template, state.answers, engineOptions(ctx, null));
  const parts = [visitHead(ctx), h("p", { class: "note", role: "status" }, note)];
  if (state.outcome_done) {
    parts.push(h("section", { class: "card done" }, h("h2", {}, t("visit_closed")), h("p", {}, t(`outcome_${state.outcome_done}`))));
    show(...parts);
    return;
  }
  const next = result.next_required_steps.map((s) => all.get(s)).filter(Boolean);
  const phase = result.phases.find((p) => p.id === result.current_phase);
  const needsArrival = !arrived && next.length > 0 && next[0].phase !== template.phases[0].id;
  if (phase) {
    parts.push(h("p", { class: "progress" }, t("phase_progress", { phase: phase.title, done: phase.required_done, total: phase.required_total })));
  }
  if (needsArrival) {
    parts.push(arrivalCard(ctx, state));
  } else if (next.length) {
    parts.push(stepInput(ctx, next[0], state, () => showVisit(id)));
  } else if (result.completion_allowed) {
    parts.push(h("section", { class: "card" }, h("h2", {}, t("ready_to_close")),
      h("button", { type: "button", class: "primary", id: "complete", onclick: () => declare(ctx, "completed") }, t("complete_visit"))));
  }
  // Why nothing can be done now (a locked phase, an automatic outcome); not while steps are left.
  if (!needsArrival && !next.length && !result.completion_allowed) {
    const reasons = result.blocking_reasons.filter((r) => r.code !== "required_step");
    for (const reason of reasons) parts.push(h("p", { class: "blocked", role: "alert" }, reason.message));
  }
  // Once the customer's signature is in, "refused to sign" is no longer a choice to offer.
  const signed = [...ctx.all.values()].some((s) => s.kind === "signature" && (state.answers || {})[s.id] !== undefined);
  const others = result.allowed_outcomes.filter((o) => o !== "completed" && o !== "aborted_safety"
    && !(signed && o === "customer_refused_to_sign"));
  if (others.length) {
    parts.push(h("section", { class: "outcomes card", "aria-labelledby": "other-title" }, h("h2", { id: "other-title" }, t("other_outcomes")),
      others.map((o) => h("button", { type: "button", class: "secondary", onclick: () => showOutcome(id, o) }, t(`outcome_${o}`)))));
  }
  parts.push(answeredList(ctx, state, result), noteBox(visit));
  show(...parts);
  armSafety(id);
}

function arrivalCard(ctx, state) {
  const id = ctx.visit.visit_id;
  const error = h("p", { class: "error", role: "alert" });
  const arrive = h("button", { type: "button", class: "primary", id: "arrive" }, t("arrived"));
  arrive.addEventListener("click", async () => {
    error.textContent = t("locating");
    const location = await here();
    if (!location) { error.textContent = t("no_location"); return; }
    await record("arrived", id, {}, { location });
    const s = await visitState(id);
    s.arrived = true;
    await saveVisitState(id, s);
    kick();
    showVisit(id);
  });
  const onWay = h("button", { type: "button", class: "secondary", id: "on-my-way", disabled: state.en_route || false }, t("on_my_way"));
  onWay.addEventListener("click", async () => {
    await record("en_route", id, { eta: new Date(Date.now() + 30 * 60000).toISOString() });
    const s = await visitState(id);
    s.en_route = true;
    await saveVisitState(id, s);
    kick();
    showVisit(id, t("on_my_way_sent"));
  });
  return h("section", { class: "card" }, h("h2", {}, t("at_the_site")), navLinks(ctx.visit), bring(ctx.visit), error, arrive, onWay);
}

// What has been answered, with a way to change an answer (a new operation replaces it).
function answeredList(ctx, state, result) {
  const answered = result.answered_steps.map((s) => ctx.all.get(s)).filter(Boolean);
  if (!answered.length) return null;
  return h("details", { class: "card answered" },
    h("summary", {}, t("answers_given", { n: answered.length })),
    h("ul", {}, answered.map((step) => h("li", {},
      h("span", {}, pick(step.title)),
      step.kind === "signature" ? null : h("button", { type: "button", class: "link", onclick: () => showStep(ctx.visit.visit_id, step.id) }, t("change"))))));
}

async function showStep(id, stepId) {
  const ctx = await context(id);
  const state = await visitState(id);
  show(visitHead(ctx, () => showVisit(id)), stepInput(ctx, ctx.all.get(stepId), state, () => showVisit(id)));
  armSafety(id);
}

function noteBox(visit) {
  const area = h("textarea", { id: "note", rows: 2 });
  const saved = h("p", { class: "note", role: "status" });
  return h("section", { class: "card" }, h("label", { for: "note" }, t("note")), area, saved,
    h("button", { type: "button", class: "secondary", id: "save-note", onclick: async () => {
      const text = area.value.trim();
      if (!text) return;
      await record("note", visit.visit_id, { text });
      area.value = "";
      saved.textContent = t("note_saved");
      kick();
    } }, t("save_note")));
}

// Declaring an outcome other than completion: its own steps first, then the operation.
async function showOutcome(id, outcome) {
  const ctx = await context(id);
  if (!ctx) { showDay(t("visit_gone")); return; }
  const { template } = ctx;
  const state = await visitState(id);
  if (state.declaring !== outcome) {
    state.declaring = outcome;
    state.outcome_answers = {};
    await saveVisitState(id, state);
  }
  const definition = (template.outcomes || []).find((o) => o.id === outcome) || { id: outcome };
  const result = evaluate(template, { ...state.answers, ...state.outcome_answers }, engineOptions(ctx, outcome));
  const next = result.next_required_steps.map((s) => ctx.all.get(s)).filter((s) => s && s.outcome === outcome);
  const safety = outcome === "aborted_safety";
  const parts = [
    h("button", { type: "button", class: "link", onclick: () => cancelOutcome(id) }, `← ${t("back")}`),
    h("h1", {}, t(`outcome_${outcome}`)),
    definition.message ? h("p", { class: safety ? "danger-text" : "help" }, pick(definition.message)) : null,
  ];
  if (next.length) parts.push(stepInput(ctx, next[0], state, () => showOutcome(id, outcome)));
  const unsaved = [];
  if (!next.length) {
    // Optional steps of the outcome (a note on what happened) before it is recorded; text typed
    // but not saved goes with the outcome rather than being lost.
    const visible = new Set(result.visible_steps);
    for (const step of ctx.all.values()) {
      if (step.outcome === outcome && visible.has(step.id) && !state.outcome_answers[step.id]) {
        const section = stepInput(ctx, step, state, () => showOutcome(id, outcome));
        const field = section.querySelector("textarea, input:not([type=file])");
        if (field && (step.kind === "text" || step.kind === "person_name")) unsaved.push({ step, field });
        parts.push(section);
      }
    }
  }
  const blocked = result.blocking_reasons.filter((r) => r.code !== "required_step");
  for (const reason of blocked) parts.push(h("p", { class: "blocked", role: "alert" }, reason.message));
  parts.push(h("button", { type: "button", class: safety ? "danger" : "primary", id: "declare", disabled: next.length > 0 || blocked.length > 0,
    onclick: async () => {
      for (const { step, field } of unsaved) {
        if (field.value.trim()) await answer(ctx, step, field.value.trim());
      }
      declare(ctx, outcome);
    } }, t("declare_outcome")));
  show(...parts);
  if (!safety) armSafety(id);
}

async function cancelOutcome(id) {
  const state = await visitState(id);
  state.declaring = null;
  state.outcome_answers = {};
  await saveVisitState(id, state);
  showVisit(id);
}

async function declare(ctx, outcome) {
  const id = ctx.visit.visit_id;
  const state = await visitState(id);
  if (!state.arrived && !ARRIVED_STATUSES.has(ctx.visit.status)) {
    // The server records an outcome only for a technician on site (leaving for safety from the
    // stairwell included): the arrival goes first, with where the phone is.
    const location = await here();
    if (location) {
      await record("arrived", id, {}, { location });
      state.arrived = true;
    }
  }
  const payload = { outcome };
  const answers = Object.values(state.outcome_answers || {}).map((a) => {
    const own = { step_id: a.step_id };
    if (a.value !== undefined) own.value = a.value;
    return own;
  });
  if (answers.length) payload.answers = answers;
  await record("outcome", id, payload);
  state.outcome_done = outcome;
  state.declaring = null;
  await saveVisitState(id, state);
  kick();
  showVisit(id, t("outcome_saved"));
}

// --- the customer's turn ----------------------------------------------------------------------
// The act is frozen from what the server holds, so everything queued goes first; then the
// signing page replaces the app (full screen, the customer's language) until they are done.
async function handOff(visit) {
  const status = h("p", { class: "note", role: "status" }, t("handoff_syncing"));
  const back = h("button", { type: "button", class: "secondary", hidden: true, onclick: () => showVisit(visit.visit_id) }, t("back"));
  show(h("h1", {}, t("hand_to_customer")), status, back);
  try {
    await sync.now();
    if ((await waiting()) > 0) throw new Offline();
    const response = await api(`/mobile/v1/visits/${visit.visit_id}/acts`, { method: "POST", body: {}, key: `act-${visit.visit_id}` });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      // The server's detail is in the phone's language; the app's own text for the code if none.
      const known = body.code && has(`code_${body.code}`) ? t(`code_${body.code}`) : null;
      status.textContent = t("handoff_refused", { detail: body.detail || known || response.statusText });
      back.hidden = false;
      return;
    }
    await kv.set("handoff", { visit_id: visit.visit_id, act_id: body.act_id, act_number: body.act_number });
    window.location.assign(new URL(body.signing_url).pathname);
  } catch (e) {
    status.textContent = e instanceof Offline ? t("handoff_offline") : t("handoff_failed");
    back.hidden = false;
  }
}

// Back from the customer: the server knows whether the act was signed (the sign step answered).
async function backFromCustomer(handoff) {
  let signed = null;
  try {
    const response = await api(`/mobile/v1/visits/${handoff.visit_id}/checklist?lang=${lang()}`);
    if (response.ok) {
      const view = await response.json();
      const answered = new Set(view.state.answered_steps);
      const ctx = await context(handoff.visit_id);
      const state = await visitState(handoff.visit_id);
      signed = false;
      for (const step of ctx.all.values()) {
        if (step.kind === "signature" && answered.has(step.id)) {
          state.answers = { ...state.answers, [step.id]: { step_id: step.id, value: handoff.act_id, answered_at: new Date().toISOString() } };
          signed = true;
        }
      }
      await saveVisitState(handoff.visit_id, state);
    }
  } catch {
    signed = null;
  }
  if (signed !== null) await kv.del("handoff");
  const note = signed === null ? t("customer_unknown") : signed ? t("customer_signed", { number: handoff.act_number }) : t("customer_not_signed");
  showVisit(handoff.visit_id, note);
}

// --- sync results in plain words ----------------------------------------------------------------
const RESULT_TEXT = {
  applied: "result_applied",
  duplicate: "result_duplicate",
  rejected: "result_rejected",
  conflict: "result_conflict",
};

// The open sync screen again, where the technician had scrolled to.
async function redrawSync() {
  if (!onSyncScreen) return;
  const y = window.scrollY;
  await showSync();
  window.scrollTo(0, y);
}

async function showSync() {
  const records = (await ops.all()).reverse();
  if (records.length) await kv.set("trouble_seen", records[0].seq);
  refreshIndicators();
  const photoRecords = await photoStore.all();
  const bundle = (await kv.get("bundle")) || { visits: [], templates: {} };
  const zone = bundle.time_zone;
  // What each operation was about, in the technician's words: the customer and the step.
  const visits = new Map(bundle.visits.map((v) => [v.visit_id, v]));
  // A visit gone from the plan (cancelled, reassigned) is still named from its change notice.
  for (const change of (await kv.get("changes")) || []) {
    if (change.visit && !visits.has(change.visit_id)) visits.set(change.visit_id, change.visit);
  }
  const stepTitle = (visit, stepId) => {
    if (!visit || !stepId) return null;
    const template = bundle.templates[`${visit.checklist.key}@${visit.checklist.version}`];
    const step = template && templateSteps(template).get(stepId);
    return step ? pick(step.title) : null;
  };
  const title = (record) => {
    const visit = visits.get(record.op.visit_id);
    const step = stepTitle(visit, record.op.payload.step_id);
    let what = t(`op_${record.op.type}`);
    if (step) what = `${what}: ${step}`;
    if (record.op.type === "outcome") what = `${what}: ${t(`outcome_${record.op.payload.outcome}`)}`;
    return { what, who: visit ? visit.customer.name : "" };
  };
  // A photo not yet stored, laid out like an operation: its step, customer, and why it was
  // refused (the server's words, or the app's after repeated failed uploads).
  const photoLine = (photo) => {
    const visit = visits.get(photo.visit_id);
    const step = stepTitle(visit, photo.step_id);
    const failed = photo.state === "rejected";
    return h("li", { class: failed ? "bad" : "" },
      h("strong", {}, step ? `${t("op_photo_attached")}: ${step}` : t("op_photo_attached")), " ",
      t(failed ? "result_rejected" : "result_queued"),
      h("span", { class: "meta" }, `${visit ? visit.customer.name : ""} · ${time(new Date(photo.taken_at).toISOString(), zone)}`),
      failed ? h("span", { class: "why" }, photo.reason || t("code_photo_refused")) : null);
  };
  const button = h("button", { type: "button", class: "primary", id: "sync-now" }, t("sync_now"));
  const left = await waiting();
  const said = syncState === "syncing" || syncState === "login" ? `sync_${syncState}`
    : !left ? "all_sent" : !navigator.onLine ? "working_offline" : `sync_${syncState}`;
  const status = h("p", { class: "note", role: "status" }, t(said));
  button.addEventListener("click", async () => { await sync.now(); showSync(); });
  show(
    h("button", { type: "button", class: "link", onclick: () => showDay() }, `← ${t("my_day")}`),
    h("h1", {}, t("sync_title")), status, button,
    h("ul", { class: "results" },
      photoRecords.filter((p) => p.state !== "stored").map(photoLine),
      records.map((r) => {
        const state = r.result ? r.result.status : "queued";
        const bad = state === "rejected" || state === "conflict";
        const { what, who } = title(r);
        return h("li", { class: bad ? "bad" : "" },
          h("strong", {}, what), " ", t(RESULT_TEXT[state] || "result_queued"),
          h("span", { class: "meta" }, `${who} · ${time(r.op.device_time, zone)}`),
          // The server's reason (in the language the phone asked for) says more than the app's
          // generic text for the code, which stands in when the server gave none.
          bad ? h("span", { class: "why" }, r.result.message || (has(`code_${r.result.code}`) ? t(`code_${r.result.code}`) : "")) : null,
          bad ? h("span", { class: "advice" }, t(`advice_${state}`)) : null);
      })),
  );
  onSyncScreen = true;
}

// --- start ------------------------------------------------------------------------------------
async function start() {
  const session = await kv.get("session");
  if (!session) { showLogin(); return; }
  sync = startSyncLoop(async (report) => {
    // A photo the server refused (its bytes did not match): the step is asked for again.
    for (const result of report.results.filter((r) => r.code === "photo_refused")) {
      const state = await visitState(result.visit_id);
      const answers = { ...state.answers };
      delete answers[result.step_id];
      state.answers = answers;
      state.draft_photos = { ...(state.draft_photos || {}), [result.step_id]: [] };
      await saveVisitState(result.visit_id, state);
    }
    await refreshIndicators();
    await redrawSync();
  }, async (state) => {
    syncState = state;
    await refreshIndicators();
    if (state === "login") showLogin(t("session_over"));
    else await redrawSync();
  });
  const handoff = await kv.get("handoff");
  if (handoff) { await backFromCustomer(handoff); sync.now(); return; }
  let note = "";
  if (navigator.onLine) {
    try {
      const count = await refreshAll();
      if (count) note = t("changes_found", { n: count });
    } catch (e) {
      if (e instanceof Unauthorized) { showLogin(t("session_over")); return; }
      note = t("refresh_offline");
    }
  } else note = t("working_offline");
  await showDay(note);
  await refreshIndicators();
  sync.now();
}

async function boot() {
  const stored = await kv.get("lang");
  const guess = (navigator.language || "ru").slice(0, 2);
  await useLanguage(stored || (LANGUAGES.includes(guess) ? guess : "ru"));
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
  }
  await refreshIndicators();
  setInterval(refreshIndicators, 5000);
  await start();
}

boot();
