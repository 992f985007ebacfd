// What a page notices about how an answer is being written, for the interview room and an
// assessment's answer page alike: pastes (their size, and whether the text was copied inside
// this page) and the page being hidden or losing focus (for how long). Only the facts are
// reported; the callers decide where they go (docs/integrity.md).
window.RehearseSignals = (() => {
  const PASTE_MIN = 20;  // characters: shorter pastes (a name, a bracket) are not reported
  // Compared without line-ending differences: the clipboard may give \r\n back.
  const plain = (text) => text.replace(/\r\n?/g, "\n");
  let copied = null;  // the last text copied or cut inside this page
  const remember = (event) => {
    // After CodeMirror's own handler has filled the clipboard (it copies whole lines when
    // nothing is selected); elsewhere on the page, the selection.
    const text = event.clipboardData?.getData("text/plain") || String(document.getSelection() || "");
    if (text) copied = plain(text);
  };
  document.addEventListener("copy", remember);
  document.addEventListener("cut", remember);

  // report({size, external}) for each paste into target of PASTE_MIN characters or more, after
  // the editor has handled it (so a recorder sees the pasted edit first).
  function watchPastes(target, report) {
    target.addEventListener("paste", (event) => {
      const text = event.clipboardData?.getData("text/plain") || "";
      if (text.length < PASTE_MIN) return;
      const found = { size: text.length, external: plain(text) !== copied };
      setTimeout(() => report(found), 0);
    }, true);
  }

  // report(ms) each time the page comes back after being hidden or losing focus.
  function watchAway(report) {
    let awaySince = null;
    const away = () => { awaySince ??= performance.now(); };
    const back = () => {
      if (awaySince === null) return;
      const ms = Math.round(performance.now() - awaySince);
      awaySince = null;
      if (ms > 0) report(ms);
    };
    window.addEventListener("blur", away);
    window.addEventListener("focus", back);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") away();
      else if (document.hasFocus()) back();
    });
  }

  return { watchPastes, watchAway };
})();
