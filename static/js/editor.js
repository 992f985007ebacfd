// The code editor: every textarea[data-code-editor] becomes a CodeMirror editor (Python
// highlighting, line numbers, Tab indents). The textarea stays in the form, hidden, holding the
// editor's text, so the form sends it as before; without JavaScript it is the plain textarea.
//
// The bundle (window.RehearseEditor, static/build/, `make vendor`) is large, so it is loaded only
// when a page has such a textarea: its address is this script tag's data-bundle. Browsers without
// constructable stylesheets (which CodeMirror needs to style itself under the CSP) keep the textarea.
(() => {
  const bundle = document.currentScript?.dataset.bundle;
  const SELECTOR = "textarea[data-code-editor]:not([data-editor-mounted])";
  const supported = bundle && "adoptedStyleSheets" in Document.prototype && "replaceSync" in CSSStyleSheet.prototype;
  let loading = null;

  function loadBundle() {
    if (window.RehearseEditor) return Promise.resolve(window.RehearseEditor);
    loading ||= new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = bundle;
      script.onload = () => resolve(window.RehearseEditor);
      script.onerror = () => { loading = null; reject(new Error(`could not load ${bundle}`)); };
      document.head.append(script);
    });
    return loading;
  }

  function keysHint(textarea) {
    const hint = document.createElement("small");
    hint.id = `${textarea.id || "code"}-editor-keys`;
    hint.className = "code-editor-keys";
    hint.textContent = "Tab indents. To leave the editor with the keyboard, press Esc, then Tab.";
    return hint;
  }

  function mountWith(editor) {
    for (const textarea of document.querySelectorAll(SELECTOR)) {
      textarea.dataset.editorMounted = "";
      editor.mount(textarea, { hint: keysHint(textarea) });
    }
  }

  function mountAll() {
    if (!supported || !document.querySelector(SELECTOR)) return;
    // Once loaded, at once (in the same event); before, a fresh query when it has loaded.
    if (window.RehearseEditor) mountWith(window.RehearseEditor);
    else loadBundle().then(mountWith, () => {});  // if it cannot load, the textarea keeps working
  }

  // Before app.js's own htmx:afterSwap listener (this script comes first in base.html), so a form
  // re-rendered with errors has its editor, marked aria-invalid, when app.js moves focus to it.
  document.addEventListener("DOMContentLoaded", mountAll);
  document.addEventListener("htmx:afterSwap", mountAll);
  document.addEventListener("htmx:load", mountAll);
})();
