// The code editor's CodeMirror setup, shared by both bundles: the answer editor (entry.js) and the
// live interview editor (live-entry.js) look and behave the same. Colours are not here: see
// entry.js and static/css/editor.css.

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

/**
 * The editor's extensions. `place`: an element where the editor goes (for its colour scheme);
 * `attributes`: the content's attributes (its name, description); `history`: false to leave
 * undo to another extension (Yjs brings its own).
 */
export function setup(place, attributes, withHistory) {
  return [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    withHistory === false ? [] : history(),
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
    scheme.of(EditorView.darkTheme.of(isDark(place))),
    EditorView.editorAttributes.of({ class: "rehearse-editor" }),
    EditorView.contentAttributes.of(attributes),
  ];
}

/** Follow the colour scheme in `view` from now on (and destroy it once it leaves the page). */
export function track(view) {
  forgetRemoved();
  views.add(view);
}
