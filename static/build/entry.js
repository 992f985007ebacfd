// The code editor bundle: CodeMirror 6 behind one small API, window.RehearseEditor.
// Built into static/vendor/codemirror-<version>.min.js by build.mjs (`make vendor`); the page
// script static/js/editor.js finds textarea[data-code-editor] and calls mount() on each.
//
// Colours are not here: highlighting uses classHighlighter (static `tok-*` classes) and
// static/css/editor.css themes the editor, light and dark, from the site's colour scheme.
// CodeMirror's own structural styles are injected by style-mod as a constructed stylesheet
// (document.adoptedStyleSheets, after a one-line patch of style-mod in build.mjs), which the
// CSP's style-src 'self' does not block.
//
// The extensions are in editor-setup.js, shared with the live interview editor (live-entry.js,
// its own bundle), so both editors look and behave the same.

import { EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";

import { setup, track } from "./editor-setup.js";

// The label still names the editor: aria-labelledby on the content, and a click focuses it.
function labelFor(textarea) {
  const label = textarea.id ? document.querySelector(`label[for="${CSS.escape(textarea.id)}"]`) : null;
  if (label && !label.id) label.id = `${textarea.id}-label`;
  return label;
}

function ariaAttributes(textarea, label, hint) {
  const attrs = { spellcheck: "false", autocapitalize: "off", autocorrect: "off", translate: "no" };
  if (label) attrs["aria-labelledby"] = label.id;
  else if (textarea.getAttribute("aria-label")) attrs["aria-label"] = textarea.getAttribute("aria-label");
  const described = [textarea.getAttribute("aria-describedby"), hint?.id].filter(Boolean).join(" ");
  if (described) attrs["aria-describedby"] = described;
  if (textarea.getAttribute("aria-invalid")) attrs["aria-invalid"] = textarea.getAttribute("aria-invalid");
  return attrs;
}

/**
 * Replace `textarea` with an editor showing (and editing) its text. The textarea stays in the
 * form, hidden, and holds the editor's text after every change, so any form submission sends it.
 * options.extensions: more CodeMirror extensions; options.history: false to leave undo to them;
 * options.hint: an element describing the keys, shown under the editor and added to its
 * aria-describedby.
 * Returns the EditorView.
 */
export function mount(textarea, options = {}) {
  const label = labelFor(textarea);
  const hint = options.hint || null;
  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        setup(textarea, ariaAttributes(textarea, label, hint), options.history),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          textarea.dispatchEvent(new Event("input", { bubbles: true }));
        }),
        options.extensions || [],
      ],
    }),
  });
  textarea.before(view.dom);
  if (hint) view.dom.after(hint);
  textarea.hidden = true;
  if (label) {
    // The label no longer points at the hidden textarea (its `for` would make it name a field
    // nobody sees); it names the editor through aria-labelledby, and a click focuses it.
    label.removeAttribute("for");
    label.addEventListener("click", () => view.focus());
  }
  track(view);
  return view;
}

window.RehearseEditor = { mount };
