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
// A shared editor (Yjs + y-codemirror.next) can be added later by importing it here and passing
// its extension in options.extensions with options.history = false (Yjs brings its own undo).

import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { bracketMatching, indentOnInput, indentUnit, syntaxHighlighting } from "@codemirror/language";
import { Compartment, EditorState } from "@codemirror/state";
import {
  EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, highlightSpecialChars, keymap,
  lineNumbers,
} from "@codemirror/view";
import { classHighlighter } from "@lezer/highlight";

const DARK = "(prefers-color-scheme: dark)";
const views = new Set();  // mounted views, to follow a change of colour scheme
const scheme = new Compartment();

// Pico's rule: a data-theme attribute on an ancestor wins, else the system's preference.
function isDark(element) {
  const chosen = element.closest("[data-theme]")?.getAttribute("data-theme");
  return chosen ? chosen === "dark" : window.matchMedia(DARK).matches;
}

function forgetRemoved() {
  for (const view of views) {
    if (view.dom.isConnected) continue;
    view.destroy();  // swapped out by htmx
    views.delete(view);
  }
}

function followScheme() {
  forgetRemoved();
  for (const view of views) {
    view.dispatch({ effects: scheme.reconfigure(EditorView.darkTheme.of(isDark(view.dom))) });
  }
}
window.matchMedia(DARK).addEventListener("change", followScheme);

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
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        options.history === false ? [] : history(),
        drawSelection(),
        indentOnInput(),
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        syntaxHighlighting(classHighlighter),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        // Tab indents; Escape then Tab moves focus on (CodeMirror's escape hatch).
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
        python(),
        scheme.of(EditorView.darkTheme.of(isDark(textarea))),
        EditorView.editorAttributes.of({ class: "rehearse-editor" }),
        EditorView.contentAttributes.of(ariaAttributes(textarea, label, hint)),
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
  forgetRemoved();
  views.add(view);
  return view;
}

window.RehearseEditor = { mount };
