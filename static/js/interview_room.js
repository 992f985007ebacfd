// The live interview room: a shared editor (Yjs over the room's WebSocket, the standard y-websocket
// protocol), who is in the room, a timer and the connection's state. Progressive enhancement of
// section#interview-room: without JavaScript it shows the code read-only, as rendered.
//
// The room's own messages ride the same socket, lib0-encoded as [varuint type][varString JSON]:
// 101 from the server (question switched, runs changed, ended, error), 100 from the candidate's
// page (a paste, the page losing focus). The bundle (window.RehearseLive, static/build/) is the
// room's data-bundle, loaded here only.
(() => {
  const room = document.getElementById("interview-room");
  if (!room) return;
  const data = room.dataset;
  const status = document.getElementById("room-connection");
  const editorBox = document.getElementById("room-editor");
  const presence = document.getElementById("room-presence");
  const timer = document.getElementById("room-timer");
  const SERVER = 101;
  const CLIENT = 100;
  const QUEUE_MAX = 50;  // client events kept while disconnected (the oldest are dropped)
  const ENDED = "This interview has ended: the code is read-only.";
  const candidate = data.userRole === "candidate";
  const supported = data.bundle && data.wsPath && "adoptedStyleSheets" in Document.prototype
    && "replaceSync" in CSSStyleSheet.prototype && "WebSocket" in window;

  let ended = data.readOnly === "true";
  let questionId = data.questionId || "";

  // --- The timer: elapsed since data-started-at, mm:ss or h:mm:ss ---------------------------

  const startedAt = Date.parse(data.startedAt || "");
  let ticking = null;

  function clock(seconds) {
    const h = Math.floor(seconds / 3600);
    const m = Math.floor(seconds / 60) % 60;
    const s = String(seconds % 60).padStart(2, "0");
    return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${String(m).padStart(2, "0")}:${s}`;
  }

  function tick() {
    const seconds = Math.max(0, Math.floor((Date.now() - startedAt) / 1000));
    timer.textContent = clock(seconds);
    timer.dateTime = `PT${seconds}S`;
  }

  if (timer && !ended && !Number.isNaN(startedAt)) {
    tick();
    ticking = setInterval(tick, 1000);
  }

  // --- Colours, from the name (the same person gets the same colour in both browsers) --------

  // White text passes 4.5:1 on each (y-codemirror.next writes the name on the caret's colour).
  // Candidates take the first four and staff the others, so the two people never share one.
  const PALETTE = { candidate: ["#1d4ed8", "#047857", "#7e22ce", "#b45309"],
    staff: ["#be123c", "#0e7490", "#a21caf", "#4d7c0f"] };

  function colours(name, role) {
    let hash = 2166136261;  // FNV-1a
    for (const char of name) hash = Math.imul(hash ^ char.codePointAt(0), 16777619) >>> 0;
    const choices = role === "candidate" ? PALETTE.candidate : PALETTE.staff;
    const color = choices[hash % choices.length];
    return { color, colorLight: `${color}40` };  // the selection: the same colour, a quarter opaque
  }

  if (!supported) return;  // the static code and the server's message stay

  function loadBundle() {
    if (window.RehearseLive) return Promise.resolve(window.RehearseLive);
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = data.bundle;
      script.onload = () => resolve(window.RehearseLive);
      script.onerror = () => reject(new Error(`could not load ${data.bundle}`));
      document.head.append(script);
    });
  }

  function editorOptions() {
    const hint = document.createElement("small");
    hint.id = "room-editor-keys";
    hint.className = "code-editor-keys";
    hint.textContent = "Tab indents. To leave the editor with the keyboard, press Esc, then Tab.";
    const attributes = { spellcheck: "false", autocapitalize: "off", autocorrect: "off", translate: "no",
      "aria-describedby": hint.id };
    if (document.getElementById("code-heading")) attributes["aria-labelledby"] = "code-heading";
    else attributes["aria-label"] = "Shared code";
    return { hint, attributes };
  }

  const staticCode = () => editorBox.querySelector("code")?.textContent ?? editorBox.textContent;

  // A finished interview: the code as rendered, in a read-only editor; no socket.
  if (ended) {
    loadBundle().then((live) => live.sharedEditor(editorBox, { ...editorOptions(), doc: staticCode(), readOnly: true }),
      () => {});
    return;
  }

  loadBundle().then(start, () => {
    status.textContent = "The live editor could not be loaded: reload the page to try again.";
  });

  function start(live) {
    const doc = new live.Doc();
    const url = new URL(data.wsPath, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    // The provider connects to <url>/<room name>: the path's last segment is the room name.
    const cut = url.href.lastIndexOf("/");
    const provider = new live.WebsocketProvider(url.href.slice(0, cut), url.href.slice(cut + 1), doc,
      { connect: false, disableBc: true });  // every edit goes through the server (no tab-to-tab channel)
    const awareness = provider.awareness;
    const me = { name: data.userName || "Someone", role: data.userRole || "", ...colours(data.userName || "", data.userRole) };
    awareness.setLocalStateField("user", me);

    let editor = null;
    let everSynced = false;
    let unsent = 0;  // local edits made while disconnected
    let problem = "";  // the server's last error message, shown until the next sync
    let problemTimer = null;
    let closedFor = null;  // the server refused the connection for good (close code 44xx)
    const textOf = (id) => (id ? doc.getText(`code-${id}`) : null);

    // --- The connection's state -------------------------------------------------------------

    function showStatus() {
      let text;
      if (ended) text = ENDED;
      else if (closedFor !== null) text = `The room closed the connection${closedFor ? `: ${closedFor}` : "."} Reload the page to try again.`;
      else if (provider.synced) text = "Connected.";
      else if (!everSynced) text = "Connecting…";
      else text = `Reconnecting…${unsent ? ` ${unsent} edit${unsent === 1 ? "" : "s"} not sent yet (kept, sent when the connection is back).` : ""}`;
      if (problem && !ended) text = `${problem} ${text}`;
      if (status.textContent !== text) status.textContent = text;
    }

    function showProblem(message) {
      problem = message;
      clearTimeout(problemTimer);
      problemTimer = setTimeout(() => { problem = ""; showStatus(); }, 20000);
      showStatus();
    }

    provider.on("status", showStatus);
    provider.on("closed", ({ reason }) => { closedFor = reason || ""; showStatus(); });
    provider.on("sync", (synced) => {
      if (!synced) return showStatus();
      everSynced = true;
      unsent = 0;
      problem = "";
      if (!editor) mountEditor();
      if (ended) provider.disconnect();  // ended before the first sync: the code is final now
      else flush();
      showStatus();
    });
    doc.on("update", (_update, origin) => {
      if (origin !== provider && !provider.wsconnected && unsent < 1e6) {
        unsent += 1;
        showStatus();
      }
    });

    function mountEditor() {
      const text = textOf(questionId);
      editor = live.sharedEditor(editorBox, { ...editorOptions(), text, awareness, readOnly: !text || ended });
    }

    // --- Presence: one entry per person in the room, with their role --------------------------

    let shown = "";
    function showPresence() {
      const people = new Map();
      for (const [client, state] of awareness.getStates()) {
        const user = state.user;
        if (!user || typeof user.name !== "string") continue;
        const key = `${user.name}\n${user.role}`;
        const mine = client === doc.clientID;
        if (!people.has(key) || mine) people.set(key, { ...user, mine: mine || people.get(key)?.mine });
      }
      const list = [...people.values()].sort((a, b) => (a.mine === b.mine ? a.name.localeCompare(b.name) : a.mine ? -1 : 1));
      const key = JSON.stringify(list);
      if (key === shown) return;
      shown = key;
      presence.replaceChildren(...list.map((user) => {
        const item = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = "presence-swatch";
        swatch.setAttribute("aria-hidden", "true");
        if (typeof user.color === "string") swatch.style.backgroundColor = user.color;  // CSSOM: allowed by the CSP
        const role = user.role ? ` (${user.role}${user.mine ? ", you" : ""})` : user.mine ? " (you)" : "";
        item.append(swatch, `${user.name}${role}`);
        return item;
      }));
    }
    awareness.on("change", showPresence);
    // Someone new: say again who we are, so they see us at once rather than at our next heartbeat
    // (15 s) if the server does not send a joiner the states it knows. They know us after that,
    // so their own repeat does not make us repeat again.
    awareness.on("change", ({ added }) => {
      if (added.some((client) => client !== doc.clientID)) awareness.setLocalState({ ...awareness.getLocalState() });
    });
    showPresence();

    // --- The server's messages (type 101) -----------------------------------------------------

    const signal = (name, detail) => document.body.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));

    provider.messageHandlers[SERVER] = (_encoder, decoder) => {
      let message;
      try {
        message = JSON.parse(live.readString(decoder));
      } catch {
        return;
      }
      if (message.type === "question" && message.question_id != null) {
        questionId = String(message.question_id);
        data.questionId = questionId;
        if (editor) {
          editor.bind(textOf(questionId));
          editor.setReadOnly(ended);
        }
        signal("interview:question", message);
      } else if (message.type === "runs") {
        signal("interview:runs", message);
      } else if (message.type === "ended") {
        ended = true;
        editor?.setReadOnly(true);
        clearInterval(ticking);
        // The document is final: no reconnecting (once it has arrived, when the room ended
        // before this page's first sync).
        if (provider.synced) provider.disconnect();
        showStatus();
        signal("interview:ended", message);
      } else if (message.type === "error" && typeof message.message === "string") {
        showProblem(message.message);
      }
    };

    // --- The candidate's page: pastes and focus (type 100), queued while disconnected ---------

    const queue = [];
    function send(event) {
      const bytes = live.encodeMessage(CLIENT, JSON.stringify(event));
      const ws = provider.ws;
      if (provider.synced && ws && ws.readyState === WebSocket.OPEN) ws.send(bytes);
      else if (queue.push(bytes) > QUEUE_MAX) queue.shift();
    }
    function flush() {
      const ws = provider.ws;
      while (queue.length && ws && ws.readyState === WebSocket.OPEN) ws.send(queue.shift());
    }

    if (candidate && window.RehearseSignals) {
      // After CodeMirror has handled the paste and its edit has gone out (page_signals.js), so
      // the room records the paste after the edit: on the replay's timeline the paste's moment
      // shows the text.
      window.RehearseSignals.watchPastes(editorBox, ({ size, external }) => {
        if (!ended && editor) send({ type: "paste", size, external });
      });
      window.RehearseSignals.watchAway((ms) => { if (!ended) send({ type: "blur", ms }); });
    }

    showStatus();
    provider.connect();
  }
})();
