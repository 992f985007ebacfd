// Session signals on an assessment's answer page (form[data-signals-url]): the page opening, the
// first keystroke, pastes, the page hidden or unfocused and for how long, and the answer sent,
// each with the milliseconds since the page opened. Sent as they happen, a few at a time
// (CSRF header, same origin); the interviewer reads them as a timeline, nothing is scored from
// them, and the assessment's start page tells the candidate so. Without JavaScript nothing is
// sent, and the report says the signals were not recorded.
(() => {
  const form = document.querySelector("form[data-signals-url]");
  if (!form || !window.RehearseSignals || !window.fetch) return;
  const url = form.dataset.signalsUrl;
  const token = (JSON.parse(document.body.getAttribute("hx-headers") || "{}"))["X-CSRF-Token"] || "";
  const random = new Uint8Array(12);
  crypto.getRandomValues(random);
  const visit = Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
  const opened = performance.now();
  const BATCH = 50;  // the server's limit per request
  const KEEP = 500;  // kept while the server cannot be reached (the oldest are dropped)
  const queue = [];
  let timer = null;

  function send(keepalive) {
    timer = null;
    while (queue.length) {
      const events = queue.splice(0, BATCH);
      fetch(url, {
        method: "POST", credentials: "same-origin", keepalive,
        headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
        body: JSON.stringify({ visit, events }),
      }).then((response) => {
        // 5xx or a lost connection: keep them for the next send; a refusal (4xx) is final.
        if (response.status >= 500) queue.unshift(...events.slice(0, KEEP - queue.length));
      }, () => { queue.unshift(...events.slice(0, KEEP - queue.length)); });
    }
  }
  function add(kind, detail = {}, now = false) {
    if (queue.length >= KEEP) queue.shift();
    queue.push({ kind, at_ms: Math.round(performance.now() - opened), ...detail });
    if (now) send(true);
    else timer ??= setTimeout(() => send(false), 1000);
  }

  add("opened", {}, true);
  let typed = false;
  const first = () => { if (!typed) { typed = true; add("first_input"); } };
  form.addEventListener("beforeinput", first, true);  // the editor and plain fields alike
  form.addEventListener("input", first, true);
  window.RehearseSignals.watchPastes(form, ({ size, external }) => add("paste", { size, external }));
  window.RehearseSignals.watchAway((ms) => add("hidden", { ms }));
  form.addEventListener("submit", () => add("submitted", {}, true));
  window.addEventListener("pagehide", () => send(true));
})();
