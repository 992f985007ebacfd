// The interview replay player: play/pause, speed, a scrubber over the interview's length, and the
// code at that moment, rebuilt in the browser from the room's stored Yjs updates (every update
// up to then, applied to a fresh document). Progressive enhancement of section#interview-replay:
// without JavaScript its form (?at=) shows the code at a moment, rendered by the server.
// The timeline is the section's data-timeline (JSON); the bundle (window.RehearseLive) its data-bundle.
(() => {
  const section = document.getElementById("interview-replay");
  if (!section || !section.dataset.timeline || !section.dataset.bundle) return;
  const SPEEDS = [1, 2, 4, 8];
  const CHECKPOINT = 200;  // a snapshot of the document every 200 updates, for seeking backwards
  const TICK_MS = 100;

  function loadBundle() {
    if (window.RehearseLive) return Promise.resolve(window.RehearseLive);
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = section.dataset.bundle;
      script.onload = () => resolve(window.RehearseLive);
      script.onerror = () => reject(new Error(`could not load ${section.dataset.bundle}`));
      document.head.append(script);
    });
  }

  async function loadTimeline() {
    const response = await fetch(section.dataset.timeline, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${response.status} for ${section.dataset.timeline}`);
    return response.json();
  }

  function clock(ms) {
    const seconds = Math.floor(ms / 1000);
    const h = Math.floor(seconds / 3600);
    const m = Math.floor(seconds / 60) % 60;
    const s = String(seconds % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  function element(name, attributes = {}, ...children) {
    const node = document.createElement(name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    node.append(...children);
    return node;
  }

  Promise.all([loadBundle(), loadTimeline()]).then(([live, timeline]) => player(live, timeline), (error) => {
    const note = element("p", { class: "form-error", role: "alert" },
      "The player could not be loaded; the form below still shows the code at any moment.");
    section.prepend(note);
    console.warn(error);
  });

  function player(live, timeline) {
    // To the last thing on the timeline, should an event come after the recorded end.
    const moments = ["updates", "questions", "runs", "notes", "events"].flatMap((key) => timeline[key] || [])
      .map((item) => Number(item.ms) || 0);
    const duration = moments.reduce((longest, ms) => Math.max(longest, ms), Number(timeline.duration_ms) || 0);
    // Sorted by time (stable: the stored order within a millisecond). Yjs updates commute, so the
    // document after "every update up to t" does not depend on the order they are applied in.
    const updates = (timeline.updates || []).map((u, i) => ({ ...u, i })).sort((a, b) => a.ms - b.ms || a.i - b.i)
      .map((u) => ({ ms: u.ms, bytes: live.fromBase64(u.update) }));
    const questions = (timeline.questions || []).slice().sort((a, b) => a.ms - b.ms);

    // --- The controls -------------------------------------------------------------------------
    const play = element("button", { type: "button", class: "replay-play" }, "Play");
    const speed = element("select", { id: "replay-speed" },
      ...SPEEDS.map((n) => element("option", { value: String(n) }, `${n}×`)));
    const scrubber = element("input", { type: "range", id: "replay-scrubber", min: "0", max: String(duration),
      step: "1", value: "0" });
    const time = element("span", { class: "replay-clock" });
    const announce = element("p", { class: "visually-hidden", "aria-live": "polite", id: "replay-announce" });
    const controls = element("div", { class: "replay-player", role: "group", "aria-label": "Replay controls" },
      play,
      element("label", { for: "replay-speed" }, "Speed ", speed),
      element("label", { for: "replay-scrubber", class: "replay-scrub" }, "Moment ", scrubber),
      time, announce);
    const question = element("p", { class: "replay-question" });

    const form = section.querySelector("form.replay-moment");
    const pre = document.getElementById("replay-code");
    const at = document.getElementById("replay-at") || pre?.previousElementSibling?.querySelector("strong");
    if (form) form.hidden = true;
    if (form) form.before(controls);
    else section.prepend(controls);
    controls.after(question);

    // The code: a read-only editor where CodeMirror can style itself, else the <pre>.
    let show = (text) => { if (pre) pre.textContent = text; };
    if (pre && "adoptedStyleSheets" in Document.prototype) {
      const box = element("div", { class: "replay-editor" });
      pre.before(box);
      pre.hidden = true;
      const editor = live.sharedEditor(box, { doc: pre.textContent, readOnly: true,
        attributes: { "aria-label": "The code at this moment", spellcheck: "false", translate: "no" } });
      show = editor.setText;
    }

    // --- The document at time t ---------------------------------------------------------------
    let doc = new live.Doc();
    let applied = 0;  // updates[0..applied) are in doc
    const checkpoints = [null];  // checkpoints[k]: the document after k * CHECKPOINT updates

    function countUpTo(t) {
      let lo = 0;
      let hi = updates.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (updates[mid].ms <= t) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }

    function documentAt(t) {
      const wanted = countUpTo(t);
      if (wanted < applied) {
        const k = Math.floor(wanted / CHECKPOINT);
        doc.destroy();
        doc = new live.Doc();
        if (checkpoints[k]) live.applyUpdate(doc, checkpoints[k]);
        applied = k * CHECKPOINT;
      }
      while (applied < wanted) {
        live.applyUpdate(doc, updates[applied].bytes);
        applied += 1;
        if (applied % CHECKPOINT === 0 && !checkpoints[applied / CHECKPOINT]) {
          checkpoints[applied / CHECKPOINT] = live.encodeStateAsUpdate(doc);
        }
      }
      return doc;
    }

    function questionAt(t) {
      let current = questions[0] || null;
      for (const q of questions) if (q.ms <= t) current = q;
      return current;
    }

    // --- The lists: runs, notes, events (rendered by the server, with data-ms) ----------------
    const items = [...section.querySelectorAll("li[data-ms]")].map((li) => ({ li, ms: Number(li.dataset.ms) }));
    for (const { li, ms } of items) {
      li.querySelector("a")?.addEventListener("click", (event) => {
        event.preventDefault();
        seek(ms, true);
      });
    }

    // --- Playing ------------------------------------------------------------------------------
    let now = 0;
    let timerId = null;
    let last = 0;
    let announceTimer = null;

    function render(t, { say = false } = {}) {
      now = Math.min(Math.max(0, t), duration);
      const q = questionAt(now);
      const id = q ? q.question_id : null;
      show(id != null ? documentAt(now).getText(`code-${id}`).toString() : "");
      question.textContent = q && q.title ? `Question: ${q.title}` : "";
      const text = `${clock(now)} of ${clock(duration)}`;
      time.textContent = text;
      if (at) at.textContent = clock(now);
      scrubber.value = String(now);
      scrubber.setAttribute("aria-valuetext", text);
      for (const { li, ms } of items) li.classList.toggle("replay-past", ms <= now);
      if (say) {
        // Announced once the moment settles (not every step of a drag or of playing).
        clearTimeout(announceTimer);
        announceTimer = setTimeout(() => { announce.textContent = `At ${text}.`; }, 400);
      }
    }

    function pause() {
      if (timerId === null) return;
      clearInterval(timerId);
      timerId = null;
      play.textContent = "Play";
      render(now, { say: true });
    }

    function start() {
      if (now >= duration) render(0);
      last = performance.now();
      play.textContent = "Pause";
      timerId = setInterval(() => {
        const current = performance.now();
        const next = now + (current - last) * Number(speed.value);
        last = current;
        render(next);
        if (next >= duration) pause();
      }, TICK_MS);
    }

    function seek(t, say) {
      render(t, { say });
    }

    play.addEventListener("click", () => (timerId === null ? start() : pause()));
    scrubber.addEventListener("input", () => seek(Number(scrubber.value), true));
    // The range counts milliseconds (any moment can be reached); its keys move by seconds.
    const KEYS = { ArrowLeft: -1000, ArrowDown: -1000, ArrowRight: 1000, ArrowUp: 1000, PageDown: -10000, PageUp: 10000 };
    scrubber.addEventListener("keydown", (event) => {
      let t = null;
      if (event.key in KEYS) t = now + KEYS[event.key];
      else if (event.key === "Home") t = 0;
      else if (event.key === "End") t = duration;
      if (t === null) return;
      event.preventDefault();
      seek(t, true);
    });
    // Start where the server's view was when ?at= was given (its form holds the moment), else at 0.
    const given = new URLSearchParams(window.location.search).has("at") && form?.querySelector("input[name=at]")?.value;
    const parts = given ? given.split(":").map((p) => Number(p)) : [];
    render(parts.length && parts.every(Number.isInteger) ? parts.reduce((total, p) => total * 60 + p, 0) * 1000 : 0);
  }
})();
