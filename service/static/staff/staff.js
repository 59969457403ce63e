// Behaviour every staff page shares (loaded with the page's CSP nonce; no inline handlers).
(() => {
  "use strict";
  const banner = () => document.getElementById("session-expired");

  // A fragment answered 401: the session ended. Say so and keep the page as it is, so what
  // was typed is still there after signing in again in another tab.
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 401 && banner()) banner().hidden = false;
  });
  // Forms whose answer is a form with errors (422), a conflict (409/412) or a refusal still
  // get swapped in: these answers are pages for the user, not failures of the transport.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    if (status === 409 || status === 412 || status === 422 || status === 404 || status === 403) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // A form posted after the session ended is answered by the sign-in page. Keep what was typed
  // (never tokens or hidden fields) for this tab, and put it back in the same form when signing
  // in brings the user back to the page; any other arrival drops the draft.
  const DRAFT = "naryad-staff-draft";
  const typed = (field) =>
    field.name && field.name !== "csrf" && field.type !== "hidden" && field.type !== "password" &&
    field.type !== "submit" && field.type !== "button";
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method !== "post" || !form.getAttribute("action")) return;
    if (form.getAttribute("action").startsWith("/staff/")) return;
    const fields = [];
    for (const field of form.elements) {
      if (!typed(field)) continue;
      if ((field.type === "radio" || field.type === "checkbox") && !field.checked) continue;
      fields.push([field.name, field.value]);
    }
    try {
      sessionStorage.setItem(DRAFT, JSON.stringify({ action: form.getAttribute("action"), fields }));
    } catch (e) { /* storage refused: nothing is kept */ }
  });
  const restore = () => {
    let draft = null;
    try {
      if (location.pathname === "/staff/login") return;  // keep it across the sign-in page
      draft = JSON.parse(sessionStorage.getItem(DRAFT) || "null");
      sessionStorage.removeItem(DRAFT);
    } catch (e) { return; }
    let from = "";
    try { from = new URL(document.referrer).pathname; } catch (e) { from = ""; }
    if (!draft || from !== "/staff/login") return;
    const form = Array.from(document.forms).find((f) => f.getAttribute("action") === draft.action);
    if (!form) return;
    for (const [name, value] of draft.fields) {
      for (const field of form.elements) {
        if (field.name !== name || !typed(field)) continue;
        if (field.type === "radio" || field.type === "checkbox") {
          if (field.value === value) field.checked = true;
        } else {
          field.value = value;
        }
      }
    }
    const box = form.closest("details");
    if (box) box.open = true;
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", restore);
  else restore();
  document.addEventListener("htmx:afterRequest", (event) => {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status && status !== 401 && banner()) banner().hidden = true;
  });
})();
