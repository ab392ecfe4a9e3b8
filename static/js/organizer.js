// The organizer's workspace: wires the plan editor, the spreadsheets, the events and the
// links to the live connection (the pushed state says which items the ceremony has
// reached, and when someone else changed the plan).

import { byId, show } from "./dom.js";
import { startEvents } from "./events-panel.js";
import { startLinks } from "./links-panel.js";
import { startPage } from "./page.js";
import { PlanEditor } from "./plan-editor.js";
import { startSpreadsheets } from "./spreadsheets.js";

const announcer = byId("announcer");
let editor = null;

/** Say something to screen readers (moves in the lists, saves). */
function announce(text) {
  announcer.textContent = "";
  // A fresh text node in a later frame, so the same words said twice are read twice.
  requestAnimationFrame(() => {
    announcer.textContent = text;
  });
}

const ctx = startPage({
  render: (state) => {
    if (editor) editor.applyState(state);
  },
  status: (status) => {
    show(byId("offline-banner"), status === "offline");
    show(byId("refused-banner"), status === "refused");
  },
});

const messages = ctx.data.messages;
const has = (key) => Object.prototype.hasOwnProperty.call(messages, key);
editor = new PlanEditor({ t: ctx.t, has, lang: ctx.data.lang, fmt: ctx.fmt, announce, live: ctx.live });
editor.applyState(ctx.live.state);

// Another event made active reloads the page (live.js); unsaved changes make the browser
// ask first (the editor's beforeunload).

startSpreadsheets({ t: ctx.t, lang: ctx.data.lang, editor });
startEvents({ t: ctx.t, fmt: ctx.fmt, editor });
startLinks({ t: ctx.t, editor, pointsNow: () => (editor.draft ? editor.draft.points : ctx.live.state.points) });

editor.load().then(() => {
  document.body.dataset.ready = "yes";
});
