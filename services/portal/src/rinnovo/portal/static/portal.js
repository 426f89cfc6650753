// The few things the pages do with JavaScript; without it every page still works (forms
// post and the server answers with the whole page).
"use strict";

const PARTIAL = { "X-Portal-Partial": "1" };

// A part of the page asked again and put in place of the old one; focus stays where it was.
async function replace(target, answer) {
  const type = answer.headers.get("content-type") || "";
  if (answer.redirected || answer.status === 401 || !type.startsWith("text/html")) {
    window.location.reload();
    return;
  }
  const focused = document.activeElement && document.activeElement.id;
  target.outerHTML = await answer.text();
  const again = focused && document.getElementById(focused);
  if (again) again.focus();
}

// Live quote: a form marked data-live sends itself when a field changes (or on submit) and
// the server's answer, with the new quote or the reason of a refusal, replaces data-live.
async function send(form, submitter) {
  const body = new URLSearchParams(new FormData(form, submitter));
  const target = document.getElementById(form.dataset.live);
  target.setAttribute("aria-busy", "true");
  try {
    const answer = await fetch(form.action, { method: "POST", body, headers: PARTIAL });
    await replace(target, answer);
  } catch {
    form.submit(); // the network failed: let the browser show the server's page
  }
}

document.addEventListener("change", (event) => {
  const form = event.target.form;
  if (form && form.dataset.live && event.target.dataset.apply !== "submit") send(form, null);
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.dataset.live) return;
  event.preventDefault();
  send(form, event.submitter);
});

// Confirmations: a link with data-dialog opens that <dialog> instead of a page of its own.
document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-dialog]");
  if (!opener) return;
  const dialog = document.getElementById(opener.dataset.dialog);
  if (!dialog || typeof dialog.showModal !== "function") return;
  event.preventDefault();
  dialog.showModal();
});

// Payment instructions still being prepared: look again until they are there.
function refresh() {
  const waiting = document.querySelector("[data-refresh]");
  if (!waiting) return;
  setTimeout(async () => {
    try {
      const answer = await fetch(waiting.dataset.refresh, { headers: PARTIAL });
      await replace(waiting, answer);
    } catch {
      // the next look will tell
    }
    refresh();
  }, 1500);
}

refresh();
