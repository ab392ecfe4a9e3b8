// A connection point's page: confirm the link, report problems, read the MC's messages,
// answer the roll call, follow what is being said now.

import { liveItem, nextItem, pointName, timingAt } from "./agenda.js";
import { byId, cloneTemplate, isolate, setText, show, slot, syncChildren } from "./dom.js";
import { errorText } from "./live.js";
import { startActingPage } from "./page.js";

let ctx = null;
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
  const timing = timingAt(state, ctx.live.clock.now());
  setText(el.nowElapsed, timing.elapsed === null ? "" : ctx.t("point.elapsed", {
    elapsed: ctx.fmt.duration(timing.elapsed), planned: ctx.fmt.duration(timing.planned),
  }));
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
    renderAll();
  },
  tick: () => {
    renderElapsed();
    renderRollCall();
  },
  banners: { offline: el.offline, refused: el.refused },
});

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
