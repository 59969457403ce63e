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
  document.addEventListener("htmx:afterRequest", (event) => {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status && status !== 401 && banner()) banner().hidden = true;
  });
})();
