// A connection point's page: what is being said now with its countdown, the standby cue
// when this point speaks next, confirm the link, report problems, read the MC's messages,
// answer the roll call. Every 10 seconds it measures its round trip to the server and
// reports it, for the MC's board.

import { liveItem, nextItem, pointName, remotePointOf, timingAt } from "./agenda.js";
import { Attention } from "./attention.js";
import { enableCopyButtons } from "./copy.js";
import { countdownAt, drawCountdown } from "./countdown.js";
import { byId, cloneTemplate, isolate, setData, setText, show, slot, syncChildren } from "./dom.js";
import { errorText } from "./live.js";
import { startActingPage } from "./page.js";

const LINK_EVERY_MS = 10_000;

let ctx = null;
let attention = null;
let signalled = null; // what already drew attention: message ids, roll calls, cues
let editing = false; // the technician reopened the check-in form to change it
let prefilledFor = null; // the check-in the form was last filled from

const el = {
  offline: byId("offline-banner"),
  refused: byId("refused-banner"),
  inbox: byId("inbox"),
  unread: byId("unread"),
  rollcall: byId("rollcall"),
  rollcallLeft: byId("rollcall-left"),
  rollcallAnswer: byId("rollcall-answer"),
  rollcallDone: byId("rollcall-done"),
  formWrap: byId("checkin-form-wrap"),
  form: byId("checkin-form"),
  by: byId("checkin-by"),
  present: byId("checkin-present"),
  note: byId("checkin-note"),
  checkinError: byId("checkin-error"),
  submit: byId("checkin-submit"),
  cancel: byId("checkin-cancel"),
  connected: byId("connected"),
  connectedDetail: byId("connected-detail"),
  connectedNote: byId("connected-note"),
  edit: byId("checkin-edit"),
  nowCard: byId("now-card"),
  cue: byId("cue"),
  cueTitle: byId("cue-title"),
  cueWhat: byId("cue-what"),
  ready: byId("ready"),
  cueDone: byId("cue-done"),
  countdown: byId("countdown"),
  countdownValue: byId("countdown-value"),
  countdownLabel: byId("countdown-label"),
  checkinPending: byId("checkin-pending"),
  mute: byId("mute"),
  nowTitle: byId("now-title"),
  nowSpeaker: byId("now-speaker"),
  nowElapsed: byId("now-elapsed"),
  nextLine: byId("next-line"),
  nextTitle: byId("next-title"),
  troubleActive: byId("trouble-active"),
  troubleWhat: byId("trouble-what"),
  troubleSince: byId("trouble-since"),
  troubleClear: byId("trouble-clear"),
  troubleHint: byId("trouble-hint"),
  troubleForm: byId("trouble-form"),
  troubleText: byId("trouble-text"),
  troubleError: byId("trouble-error"),
  readMessages: byId("read-messages"),
  readEmpty: byId("read-empty"),
};

function me(state) {
  return state.points.find((p) => p.id === ctx.data.pointId);
}

function online() {
  return ctx !== null && ctx.live !== null && ctx.live.status === "online";
}

// -- check-in --------------------------------------------------------------------------------

function renderCheckin(state) {
  const { t, fmt } = ctx;
  const point = me(state);
  if (!point) return; // the plan was reloaded without this point; the server drops the page
  const confirmed = Boolean(point && point.checked_in_at);
  show(el.formWrap, !confirmed || editing);
  show(el.connected, confirmed && !editing);
  show(el.cancel, confirmed && editing);
  show(el.checkinPending, !confirmed);
  if (confirmed) {
    setText(el.connectedDetail, [
      t("point.confirmed_at", { time: fmt.time(point.checked_in_at), by: isolate(point.checked_in_by) }),
      point.present != null ? t("point.present_count", { n: point.present }) : "",
    ].filter(Boolean).join(" · "));
    setText(el.connectedNote, point.note || "");
    if (!editing && prefilledFor !== point.checked_in_at) {
      // Keep the form ready with what was sent, for a later correction.
      el.by.value = point.checked_in_by || "";
      el.present.value = point.present != null ? String(point.present) : "";
      el.note.value = point.note || "";
      prefilledFor = point.checked_in_at;
    }
  }
  el.submit.disabled = !online();
}

function formError(element, text) {
  setText(element, text || "");
  show(element, Boolean(text));
}

async function submitCheckin(event) {
  event.preventDefault();
  const { t } = ctx;
  const by = el.by.value.trim();
  if (!by) {
    formError(el.checkinError, t("point.by_missing"));
    el.by.focus();
    return;
  }
  const payload = { by, note: el.note.value.trim() };
  if (el.present.value.trim() !== "") {
    const present = Number(el.present.value);
    if (!Number.isInteger(present) || present < 0 || present > 100000) {
      formError(el.checkinError, t("point.present_invalid"));
      el.present.focus();
      return;
    }
    payload.present = present;
  }
  payload.expected_version = ctx.live.state.version;
  el.submit.disabled = true;
  const result = await ctx.live.act("checkin", payload);
  el.submit.disabled = !online();
  if (result.ok) {
    formError(el.checkinError, null);
    editing = false;
    renderAll();
    el.edit.focus();
  } else {
    formError(el.checkinError, errorText(t, result));
  }
}

// -- now speaking -----------------------------------------------------------------------------

function renderNow(state) {
  const { t, fmt } = ctx;
  const live = liveItem(state);
  const next = nextItem(state);
  if (live) {
    setText(el.nowTitle, live.title);
    const where = pointName(state, live.point_id);
    setText(el.nowSpeaker, [isolate(live.speaker), where && t("common.from_point", { point: isolate(where) })]
      .filter(Boolean).join(" · "));
  } else {
    setText(el.nowTitle, t(state.phase === "finished" ? "phase.finished_long" : "phase.not_started_long"));
    setText(el.nowSpeaker, state.phase === "finished" ? ""
      : t("common.starts_at", { time: fmt.time(state.event.starts_at) }));
  }
  show(el.nextLine, Boolean(next));
  setText(el.nextTitle, next ? next.title : "");
}

function renderElapsed() {
  const state = ctx.live.state;
  const { t, fmt } = ctx;
  const now = ctx.live.clock.now();
  const timing = timingAt(state, now);
  setText(el.nowElapsed, timing.elapsed === null ? "" : t("point.elapsed", {
    elapsed: fmt.duration(timing.elapsed), planned: fmt.duration(timing.planned),
  }));
  const countdown = { box: el.countdown, value: el.countdownValue, label: el.countdownLabel };
  drawCountdown(countdown, countdownAt(state, fmt, now), t);
}

// -- the standby and live cues ------------------------------------------------------------------

/** Return this point's cue: "live" (its item is on), "standby" (it speaks next), or none. */
function cueOf(state) {
  const point = me(state);
  if (!point || point.kind === "room" || state.phase !== "live") return { kind: "none" };
  const live = liveItem(state);
  if (live && live.point_id === point.id) return { kind: "live", item: live };
  const next = nextItem(state);
  const speaker = remotePointOf(state, next);
  if (speaker && speaker.id === point.id) return { kind: "standby", item: next };
  return { kind: "none" };
}

function renderCue(state) {
  const { t, fmt } = ctx;
  const cue = cueOf(state);
  setData(el.nowCard, "cue", cue.kind);
  show(el.cue, cue.kind !== "none");
  if (cue.kind === "none") return;
  setText(el.cueTitle, t(cue.kind === "live" ? "point.cue_live" : "point.cue_next"));
  setText(el.cueWhat, cue.item.title);
  const standby = cue.kind === "standby" ? cue.item.standby : null;
  show(el.ready, cue.kind === "standby" && !standby);
  el.ready.disabled = !online();
  show(el.cueDone, Boolean(standby));
  setText(el.cueDone, standby ? t("point.ready_done", { time: fmt.time(standby.ready_at) }) : "");
}

async function sayReady() {
  const cue = cueOf(ctx.live.state);
  if (cue.kind !== "standby") return;
  el.ready.disabled = true;
  const point = me(ctx.live.state);
  const by = (point && point.checked_in_by) || el.by.value.trim();
  const payload = { item_id: cue.item.id };
  if (by) payload.by = by;
  const result = await ctx.live.act("ready", payload);
  el.ready.disabled = !online();
  if (!result.ok) {
    show(el.cueDone, true);
    setText(el.cueDone, errorText(ctx.t, result));
  }
}

// -- attention -------------------------------------------------------------------------------------

/** A new message, roll call or cue: chime, vibrate, flash the title (once for each). */
function signalNews(state) {
  const pointId = ctx.data.pointId;
  const news = new Set();
  for (const message of state.messages || []) {
    if (!message.read_by[pointId]) news.add(`message:${message.id}`);
  }
  const rollCall = state.roll_call;
  if (rollCall && !rollCall.answers[pointId] && Date.parse(rollCall.closes_at) > ctx.live.clock.now()) {
    news.add(`roll:${rollCall.started_at}`);
  }
  const cue = cueOf(state);
  if (cue.kind !== "none") news.add(`cue:${cue.kind}:${cue.item.id}`);
  if (signalled !== null && [...news].some((key) => !signalled.has(key))) attention.cue();
  signalled = new Set([...(signalled || []), ...news]);
}

// -- link health -----------------------------------------------------------------------------------

async function reportLink() {
  if (!online()) return;
  const measured = await ctx.live.measureLink();
  if (measured && online()) await ctx.live.act("link", measured);
}

// -- trouble ----------------------------------------------------------------------------------

function renderTrouble(state) {
  const { t, fmt } = ctx;
  const point = me(state);
  if (!point) return;
  const trouble = point.trouble;
  show(el.troubleActive, Boolean(trouble));
  show(el.troubleHint, !trouble);
  if (trouble) {
    const label = t(`trouble.${trouble.kind}`);
    setText(el.troubleWhat, t("point.trouble_reported", {
      what: trouble.text ? `${label}: ${isolate(trouble.text)}` : label,
    }));
    setText(el.troubleSince, t("board.since", { time: fmt.time(trouble.since) }));
  }
  for (const button of document.querySelectorAll("[data-trouble], #trouble-other, #trouble-clear")) {
    button.disabled = !online();
  }
}

async function reportTrouble(kind, text = "") {
  const payload = { kind, expected_version: ctx.live.state.version };
  if (text) payload.text = text;
  const result = await ctx.live.act("trouble", payload);
  formError(el.troubleError, result.ok ? null : errorText(ctx.t, result));
  // Empty the box once what it said is reported, not what was typed since.
  if (result.ok && text && el.troubleText.value.trim() === text) el.troubleText.value = "";
}

async function reportOther(event) {
  event.preventDefault();
  const text = el.troubleText.value.trim();
  if (!text) {
    formError(el.troubleError, ctx.t("point.trouble_other_missing"));
    el.troubleText.focus();
    return;
  }
  await reportTrouble("other", text);
}

async function clearTrouble() {
  const result = await ctx.live.act("trouble", {
    clear: true, expected_version: ctx.live.state.version,
  });
  formError(el.troubleError, result.ok ? null : errorText(ctx.t, result));
}

// -- messages and roll call ---------------------------------------------------------------------

function renderMessages(state) {
  const { t, fmt } = ctx;
  const pointId = ctx.data.pointId;
  const messages = (state.messages || []).slice().reverse();
  const unread = messages.filter((m) => !m.read_by[pointId]);
  const read = messages.filter((m) => m.read_by[pointId]);
  show(el.inbox, unread.length > 0);
  const meta = (message) => [
    t(message.to ? "point.to_you" : "point.to_everyone"),
    fmt.time(message.sent_at),
  ].join(" · ");
  syncChildren(el.unread, unread, (m) => m.id, () => {
    const item = cloneTemplate("tpl-unread");
    slot(item, "ack").addEventListener("click", () => acknowledge(Number(item.dataset.key), item));
    return item;
  }, (item, message) => {
    setText(slot(item, "meta"), meta(message));
    setText(slot(item, "text"), message.text);
    slot(item, "ack").disabled = !online();
  });
  show(el.readEmpty, read.length === 0);
  syncChildren(el.readMessages, read, (m) => m.id, () => cloneTemplate("tpl-read"), (item, message) => {
    setText(slot(item, "meta"), `${meta(message)} · ${t("messages.read_at", {
      time: fmt.time(message.read_by[pointId]),
    })}`);
    setText(slot(item, "text"), message.text);
  });
}

async function acknowledge(messageId, item) {
  const button = slot(item, "ack");
  button.disabled = true;
  const result = await ctx.live.act("ack_message", { message_id: messageId });
  if (!result.ok) {
    button.disabled = !online();
    formError(el.troubleError, errorText(ctx.t, result));
  }
}

function renderRollCall() {
  const state = ctx.live.state;
  const { t, fmt } = ctx;
  const rollCall = state.roll_call;
  const left = rollCall ? (Date.parse(rollCall.closes_at) - ctx.live.clock.now()) / 1000 : 0;
  const answeredAt = rollCall && rollCall.answers[ctx.data.pointId];
  const open = Boolean(rollCall) && left > 0;
  show(el.rollcall, open);
  if (!open) return;
  show(el.rollcallAnswer, !answeredAt);
  show(el.rollcallDone, Boolean(answeredAt));
  el.rollcallAnswer.disabled = !online();
  setText(el.rollcallLeft, answeredAt ? "" : t("point.rollcall_left", { left: fmt.duration(left) }));
  setText(el.rollcallDone, answeredAt ? t("point.rollcall_done", { time: fmt.clock(answeredAt) }) : "");
}

async function answerRollCall() {
  el.rollcallAnswer.disabled = true;
  const result = await ctx.live.act("roll_call", {});
  if (!result.ok) {
    el.rollcallAnswer.disabled = !online();
    setText(el.rollcallLeft, errorText(ctx.t, result));
  }
}

// -- the page ----------------------------------------------------------------------------------

function renderAll() {
  const state = ctx.live.state;
  renderCue(state);
  renderMessages(state);
  renderRollCall();
  renderCheckin(state);
  renderNow(state);
  renderElapsed();
  renderTrouble(state);
}

ctx = startActingPage({
  draw: (context) => {
    ctx = context;
    if (!attention) {
      attention = new Attention({
        t: context.t, button: el.mute, storageKey: `runsheet.mute.point.${context.data.pointId}`,
      });
    }
    signalNews(context.live.state);
    renderAll();
  },
  tick: () => {
    renderElapsed();
    renderRollCall();
  },
  banners: { offline: el.offline, refused: el.refused },
});
enableCopyButtons(ctx.t);

el.form.addEventListener("submit", submitCheckin);
el.edit.addEventListener("click", () => {
  editing = true;
  renderAll();
  el.by.focus();
});
el.cancel.addEventListener("click", () => {
  editing = false;
  formError(el.checkinError, null);
  renderAll();
  el.edit.focus();
});
for (const button of document.querySelectorAll("[data-trouble]")) {
  button.addEventListener("click", () => reportTrouble(button.dataset.trouble));
}
el.troubleForm.addEventListener("submit", reportOther);
el.troubleClear.addEventListener("click", clearTrouble);
el.rollcallAnswer.addEventListener("click", answerRollCall);
el.ready.addEventListener("click", sayReady);
setTimeout(reportLink, 1000);
setInterval(reportLink, LINK_EVERY_MS);
