// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  // An outerHTML swap (a form re-rendered with errors) reports the replaced, detached element as
  // its target; the event itself is dispatched on the new one.
  const target = event.detail?.target?.isConnected === false ? event.target : event.detail?.target;
  if (!target?.querySelector) return;  // a history restore (Back/Forward) swaps with no target
  // Move focus to the first invalid field after a form is re-rendered with errors.
  const invalid = target.querySelector("[aria-invalid='true']");
  if (invalid) invalid.focus();
  // After Submit, focus goes to the answer's status (announced: it is an aria-live region), not <body>.
  else if (target.id === "answer-result") target.focus();
});

// Count down to a server-set deadline; the server refuses late answers whatever this shows.
function startCountdowns() {
  for (const el of document.querySelectorAll("time[data-deadline]")) {
    if (el.dataset.ticking) continue;
    el.dataset.ticking = "1";
    const deadline = Date.parse(el.dataset.deadline);
    const tick = () => {
      const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      const m = Math.floor(left / 60), s = left % 60;
      el.textContent = left ? `${m}:${String(s).padStart(2, "0")}` : "time is up";
      if (left <= 60 && !el.dataset.warned) warnTimeShort(el, left);
      if (left) setTimeout(tick, 1000);
    };
    tick();
  }
}
// Once, with a minute or less to go: say so where screen readers hear it.
function warnTimeShort(el, left) {
  el.dataset.warned = "1";
  el.classList.add("time-short");
  const area = document.getElementById("flash-area");
  if (!area) return;
  const note = document.createElement("article");
  note.className = "flash flash-error";
  note.setAttribute("role", "alert");
  note.textContent = left > 0 ? "Less than a minute left: send your answers now; the server refuses them after the deadline."
                              : "Time is up.";
  area.append(note);
}
document.addEventListener("DOMContentLoaded", startCountdowns);
document.addEventListener("htmx:afterSettle", startCountdowns);

// Phones: the site menu starts folded (the page is served with it open, for browsers without
// JavaScript), and follows the screen when it is turned or resized.
const narrow = window.matchMedia("(max-width: 768px)");
function fitMenu() {
  for (const menu of document.querySelectorAll("details.site-menu")) menu.open = !narrow.matches;
}
document.addEventListener("DOMContentLoaded", fitMenu);
narrow.addEventListener("change", fitMenu);

// Escape closes an open menu (the site menu on a phone, the account menu) and returns focus to it.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  for (const menu of document.querySelectorAll("details.dropdown[open], details.site-menu[open]")) {
    if (menu.classList.contains("site-menu") && !narrow.matches) continue;
    menu.open = false;
    menu.querySelector("summary")?.focus();
  }
});

// A form with data-confirm asks before it is sent (deactivating a user, resetting a password).
document.addEventListener("submit", (event) => {
  const message = event.target.dataset?.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
}, true);

// Moments in the viewer's own time zone (the page says UTC, which is also kept in the title).
const LOCAL_STYLES = {
  date: { dateStyle: "medium" },
  datetime: { dateStyle: "medium", timeStyle: "short" },
  seconds: { dateStyle: "medium", timeStyle: "medium" },
  time: { timeStyle: "short" },
  time_seconds: { timeStyle: "medium" },
};
function localTimes(root) {
  for (const el of (root || document).querySelectorAll("time[data-local]")) {
    if (el.dataset.localised) continue;
    const moment = new Date(el.getAttribute("datetime"));
    const style = LOCAL_STYLES[el.dataset.local];
    if (Number.isNaN(moment.getTime()) || !style) continue;
    const zone = document.body.dataset.timeZone || undefined;  // the account's choice, else the browser's
    el.textContent = new Intl.DateTimeFormat(undefined, { ...style, timeZone: zone }).format(moment);
    el.dataset.localised = "1";
  }
}
document.addEventListener("DOMContentLoaded", () => localTimes());
document.addEventListener("htmx:afterSettle", (event) => localTimes(event.detail.elt));
