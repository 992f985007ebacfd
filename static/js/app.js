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

// The assessment builder's question list: narrow it by words, topic and difficulty; chosen
// questions stay chosen (and counted) while hidden.
function setUpPickers() {
  for (const bar of document.querySelectorAll("[data-picker]")) {
    const box = bar.closest("fieldset");
    const items = [...box.querySelectorAll("[data-topic]")];
    const text = bar.querySelector("[data-picker-text]");
    const fields = [...bar.querySelectorAll("[data-picker-field]")];
    const count = bar.querySelector("[data-picker-count]");
    const update = () => {
      const words = text.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      for (const item of items) {
        const fits = words.every((w) => item.dataset.text.includes(w))
          && fields.every((f) => !f.value || item.dataset[f.dataset.pickerField] === f.value);
        item.hidden = !fits;
        shown += fits;
      }
      const chosen = box.querySelectorAll("input[name=questions]:checked").length;
      count.textContent = `${shown} of ${items.length} shown · ${chosen} chosen`;
    };
    bar.hidden = false;
    bar.addEventListener("input", update);
    box.addEventListener("change", update);
    update();
  }
}
document.addEventListener("DOMContentLoaded", setUpPickers);

// The builder's order: a question gets the next position when it is chosen (the order picked), and
// the chosen ones are listed in order with buttons that move them. The position fields beside the
// questions hold the order (typed by hand without JavaScript); ties and gaps close up here.
function setUpOrdering() {
  for (const section of document.querySelectorAll("[data-picker-order]")) {
    const box = section.closest("fieldset");
    const list = section.querySelector("ol");
    const position = (item) => item.querySelector("input[name^='position-']");
    const chosen = () => [...box.querySelectorAll("[data-topic]")]
      .filter((item) => item.querySelector("input[name=questions]").checked)
      .sort((a, b) => (Number(position(a).value) || 1e9) - (Number(position(b).value) || 1e9));
    const renumber = (items) => items.forEach((item, n) => { position(item).value = String(n + 1); });
    const show = (focus) => {
      const items = chosen();
      list.replaceChildren(...items.map((item, n) => {
        const row = document.createElement("li");
        row.append(item.dataset.title, " ");
        for (const [way, step, mark] of [["up", -1, "↑"], ["down", 1, "↓"]]) {
          const button = Object.assign(document.createElement("button"),
            { type: "button", className: "secondary outline small", textContent: mark });
          button.setAttribute("aria-label", `Move ${item.dataset.title} ${way}`);
          button.disabled = !items[n + step];
          button.addEventListener("click", () => {
            [items[n], items[n + step]] = [items[n + step], items[n]];
            renumber(items);
            show(button.getAttribute("aria-label"));
          });
          row.append(button);
        }
        return row;
      }));
      section.hidden = !items.length;
      const again = focus && [...list.querySelectorAll("button")].find((b) => b.getAttribute("aria-label") === focus);
      (again?.disabled ? again.parentElement.querySelector("button:not([disabled])") : again)?.focus();
    };
    box.addEventListener("change", (event) => {
      if (event.target.name === "questions" && !event.target.checked) position(event.target.closest("[data-topic]")).value = "";
      if (event.target.name === "questions" || event.target.name?.startsWith("position-")) {
        renumber(chosen());
        show();
      }
    });
    show();
  }
}
document.addEventListener("DOMContentLoaded", setUpOrdering);
