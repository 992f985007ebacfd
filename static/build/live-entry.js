// The live interview editor's bundle, window.RehearseLive: the answer editor's CodeMirror setup
// (editor-setup.js) bound to a Yjs text with y-codemirror.next (remote cursors and selections,
// Yjs's own undo), the y-websocket client, and the few Yjs and lib0 pieces the page scripts need.
// Built into static/vendor/live-<yjs version>.min.js by build.mjs (`make vendor`); loaded only by
// static/js/interview_room.js (the room) and static/js/interview_replay.js (the replay).

import { Compartment, EditorState, Prec } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { fromBase64 } from "lib0/buffer";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { WebsocketProvider } from "y-websocket";
import { Doc, UndoManager, applyUpdate, encodeStateAsUpdate } from "yjs";

import { setup, track } from "./editor-setup.js";

/** A message of the room's own types: [varuint type][varString text] (lib0 encoding). */
function encodeMessage(type, text) {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, type);
  encoding.writeVarString(encoder, text);
  return encoding.toUint8Array(encoder);
}

/** The text of such a message, from the decoder y-websocket hands a message handler. */
function readString(decoder) {
  return decoding.readVarString(decoder);
}

const locked = (readOnly) => (readOnly ? EditorState.readOnly.of(true) : []);

/**
 * An editor in `parent` (its content replaced), either bound to a Y.Text (options.text, with
 * options.awareness for the others' cursors) or showing options.doc. options.attributes: the
 * content's attributes (its accessible name); options.readOnly; options.hint: an element placed
 * under the editor. Returns { view, bind(text), setText(string), setReadOnly(flag) }.
 */
function sharedEditor(parent, options = {}) {
  const collab = new Compartment();
  const lock = new Compartment();
  let undo = null;

  function collabOf(text) {
    undo?.destroy();
    undo = text ? new UndoManager(text) : null;
    if (!text) return [];
    return [yCollab(text, options.awareness || null, { undoManager: undo }), Prec.high(keymap.of(yUndoManagerKeymap))];
  }

  const view = new EditorView({
    state: EditorState.create({
      doc: options.text ? options.text.toString() : options.doc || "",
      extensions: [
        setup(parent, options.attributes || {}, false),
        collab.of(collabOf(options.text)),
        lock.of(locked(options.readOnly)),
      ],
    }),
  });
  parent.replaceChildren(view.dom);
  if (options.hint) view.dom.after(options.hint);
  track(view);

  function setText(text) {
    if (view.state.doc.toString() !== text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    }
  }

  return {
    view,
    // Another text (another question): unbind first, so the old binding does not write the
    // replacement into the old text, then show the new text and bind to it.
    bind(text) {
      view.dispatch({ effects: collab.reconfigure([]) });
      setText(text.toString());
      view.dispatch({ effects: collab.reconfigure(collabOf(text)) });
    },
    setText,
    setReadOnly(readOnly) {
      view.dispatch({ effects: lock.reconfigure(locked(readOnly)) });
    },
  };
}

window.RehearseLive = {
  Doc, applyUpdate, encodeStateAsUpdate, fromBase64, WebsocketProvider, encodeMessage, readString, sharedEditor,
};
