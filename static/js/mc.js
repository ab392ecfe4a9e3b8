// The MC console: the run-sheet and its big Next, the check-in board, messages, roll call.

import { liveItem, nextItem, pointName, timingAt } from "./agenda.js";
import { confirmAction, confirmOpen } from "./confirm.js";
import { byId, cloneTemplate, isolate, setData, setText, show, slot, syncChildren } from "./dom.js";
import { errorText } from "./live.js";
import { startActingPage } from "./page.js";

let pending = false; // a run-sheet action is on its way: Next waits for its answer
let ctx = null;

const el = {
  phase: byId("phase"),
  nowTitle: byId("now-title"),
  nowSpeaker: byId("now-speaker"),
  timer: byId("timer"),
  elapsed: byId("elapsed"),
  planned: byId("planned"),
  bar: byId("elapsed-bar"),
  overUnder: byId("over-under"),
  projectedEnd: byId("projected-end"),
  plannedEnd: byId("planned-end"),
  next: byId("next"),
  nextLabel: byId("next-label"),
  nextWhat: byId("next-what"),
  back: byId("back"),
  finish: byId("finish"),
  reset: byId("reset"),
  actionError: byId("action-error"),
  runsheet: byId("runsheet"),
  board: byId("board"),
  boardSummary: byId("board-summary"),
  offline: byId("offline-banner"),
  refused: byId("refused-banner"),
  rollcallForm: byId("rollcall-form"),
  rollcallSeconds: byId("rollcall-seconds"),
  rollcallStart: byId("rollcall-start"),
  rollcallStatus: byId("rollcall-status"),
  rollcallMissing: byId("rollcall-missing"),
  messageForm: byId("message-form"),
  messageTo: byId("message-to"),
  messageText: byId("message-text"),
  messageSend: byId("message-send"),
  messageError: byId("message-error"),
  messages: byId("messages"),
  messagesEmpty: byId("messages-empty"),
};

// -- the run-sheet ----------------------------------------------------------------------------

/** What the big button does now: start, next, finish, or nothing. */
function nextAction(state) {
  if (state.phase === "finished") return null;
  if (state.phase === "not_started") return "advance";
  return state.next_item_id ? "advance" : "finish";
}

function renderNow(state) {
  const { t } = ctx;
  const live = liveItem(state);
  const next = nextItem(state);
  const position = live ? state.agenda.indexOf(live) + 1 : 0;
  setData(el.phase, "phase", state.phase);
  setText(
    el.phase,
    live ? t("mc.item_of", { n: position, total: state.agenda.length }) : t(`phase.${state.phase}`),
  );
  if (live) {
    setText(el.nowTitle, live.title);
    const where = pointName(state, live.point_id);
    setText(el.nowSpeaker, [isolate(live.speaker), where && t("common.from_point", { point: isolate(where) })]
      .filter(Boolean).join(" · "));
  } else if (state.phase === "finished") {
    setText(el.nowTitle, t("phase.finished_long"));
    setText(el.nowSpeaker, "");
  } else {
    setText(el.nowTitle, t("phase.not_started_long"));
    setText(el.nowSpeaker, t("common.starts_at", { time: ctx.fmt.time(state.event.starts_at) }));
  }
  const action = nextAction(state);
  setText(el.nextLabel, action === null ? t("mc.finished") : action === "finish" ? t("mc.finish")
    : state.phase === "not_started" ? t("mc.start") : t("mc.next"));
  setText(el.nextWhat, action === "advance" && next ? next.title : "");
  el.back.disabled = pending || state.phase === "not_started" || !online();
  el.finish.disabled = pending || state.phase !== "live" || !online();
  el.reset.disabled = pending || state.phase === "not_started" || !online();
  el.next.disabled = pending || action === null || !online();
  el.next.setAttribute("aria-busy", String(pending));
}

function renderTimers() {
  const state = ctx.live.state;
  const { fmt, t } = ctx;
  const timing = timingAt(state, ctx.live.clock.now());
  show(el.timer, true);
  if (timing.elapsed !== null) {
    setText(el.elapsed, fmt.duration(timing.elapsed));
    setText(el.planned, t("mc.of_planned", { planned: fmt.duration(timing.planned) }));
    const over = timing.elapsed > timing.planned;
    setData(el.timer, "over", over ? "yes" : timing.elapsed > timing.planned * 0.8 ? "soon" : "no");
    el.bar.style.width = `${Math.min(100, (100 * timing.elapsed) / Math.max(1, timing.planned))}%`;
  } else {
    setText(el.elapsed, "–");
    setText(el.planned, "");
    setData(el.timer, "over", "no");
    el.bar.style.width = "0%";
  }
  // On another day than planned (a rehearsal), over/under against the planned date means
  // nothing; show how the programme runs against its own durations since it started.
  const otherDay = Math.abs(timing.overUnder) >= 6 * 3600;
  const shown = otherDay && timing.drift !== null ? timing.drift : timing.overUnder;
  const text = fmt.overUnder(shown);
  setText(el.overUnder, otherDay && timing.drift !== null ? t("timing.rehearsal", { amount: text }) : text);
  const sign = otherDay && timing.drift === null ? "other-day"
    : shown >= 30 ? "late" : shown <= -30 ? "early" : "on";
  setData(el.overUnder, "sign", sign);
  setText(el.projectedEnd, fmt.timeOn(timing.projectedEnd, timing.plannedEnd));
  setText(el.plannedEnd, fmt.timeOn(timing.plannedEnd, timing.projectedEnd));
}

function renderRunsheet(state) {
  const { t, fmt } = ctx;
  syncChildren(
    el.runsheet,
    state.agenda,
    (item) => item.id,
    () => {
      const row = cloneTemplate("tpl-runsheet-item");
      slot(row, "jump").addEventListener("click", () => askGoto(row.dataset.key));
      return row;
    },
    (row, item) => {
      const status = item.id === state.next_item_id && item.status !== "live" ? "next" : item.status;
      setData(row, "status", status);
      setText(slot(row, "planned"), fmt.time(item.planned_start));
      const actual = item.started_at
        ? item.ended_at
          ? `${fmt.time(item.started_at)}–${fmt.time(item.ended_at)}`
          : t("agenda.since", { time: fmt.time(item.started_at) })
        : "";
      setText(slot(row, "actual"), actual);
      setText(slot(row, "badge"), t(`status.${status}`));
      setText(slot(row, "title"), item.title);
      const minutes = t(item.minutes_estimated ? "agenda.minutes_estimated" : "agenda.minutes", {
        n: item.planned_minutes,
      });
      setText(slot(row, "speaker"), [isolate(item.speaker), minutes].filter(Boolean).join(" · "));
      const jump = slot(row, "jump");
      show(jump, item.status !== "live");
      jump.disabled = pending || !online();
      jump.setAttribute("aria-label", t("mc.jump_to", { title: item.title }));
      if (item.status === "live") row.setAttribute("aria-current", "step");
      else row.removeAttribute("aria-current");
    },
  );
}

async function perform(name, payload = {}) {
  if (pending || !online()) return;
  pending = true;
  renderAll();
  const result = await ctx.live.act(name, { ...payload, expected_version: ctx.live.state.version });
  pending = false;
  renderAll();
  showActionError(result.ok ? null : errorText(ctx.t, result));
}

function showActionError(text) {
  setText(el.actionError, text || "");
  show(el.actionError, Boolean(text));
}

function pressNext() {
  if (el.next.disabled) return;
  const action = nextAction(ctx.live.state);
  if (action === "finish") askFinish();
  else if (action) perform(action);
}

async function askBack() {
  const state = ctx.live.state;
  if (el.back.disabled) return;
  const live = liveItem(state);
  const index = live ? state.agenda.indexOf(live) : state.agenda.length;
  const previous = state.phase === "finished" ? state.agenda[state.agenda.length - 1]
    : index > 0 ? state.agenda[index - 1] : null;
  const { t } = ctx;
  const ok = await confirmAction({
    title: t("mc.back_confirm_title"),
    text: previous ? t("mc.back_confirm_text", { title: previous.title }) : t("mc.back_to_start_text"),
    ok: t("mc.back"),
  });
  if (ok) perform("back");
}

async function askGoto(itemId) {
  const item = ctx.live.state.agenda.find((i) => i.id === itemId);
  if (!item) return;
  const { t } = ctx;
  const ok = await confirmAction({
    title: t("mc.jump_confirm_title"),
    text: t("mc.jump_confirm_text", { title: item.title }),
    ok: t("mc.jump"),
  });
  if (ok) perform("goto", { item_id: itemId });
}

async function askFinish() {
  const { t } = ctx;
  const ok = await confirmAction({
    title: t("mc.finish_confirm_title"), text: t("mc.finish_confirm_text"), ok: t("mc.finish"),
  });
  if (ok) perform("finish");
}

async function askReset() {
  const { t } = ctx;
  const ok = await confirmAction({
    title: t("mc.reset_confirm_title"), text: t("mc.reset_confirm_text"), ok: t("mc.reset"),
  });
  if (ok) perform("reset");
}

function isTextEntry(target) {
  return Boolean(target.closest && target.closest("input, textarea, select, [contenteditable]"));
}

function onKey(event) {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
  if (confirmOpen() || isTextEntry(event.target)) return;
  const onControl = Boolean(event.target.closest && event.target.closest("button, a, summary"));
  if (event.key === "ArrowRight" || (event.key === " " && !onControl)) {
    // Space on a focused button clicks that button, as everywhere else.
    event.preventDefault();
    if (!event.repeat) pressNext();
  } else if (event.key === "ArrowLeft") {
    event.preventDefault();
    if (!event.repeat) askBack();
  }
}

// -- check-in board --------------------------------------------------------------------------

function tileState(point) {
  if (point.trouble) return "trouble";
  if (!point.checked_in_at) return "unconfirmed";
  return point.online ? "online" : "offline";
}

function renderBoard(state) {
  const { t, fmt } = ctx;
  const rollCall = state.roll_call;
  syncChildren(
    el.board,
    state.points,
    (point) => point.id,
    () => cloneTemplate("tpl-tile"),
    (tile, point) => {
      const kind = tileState(point);
      setData(tile, "state", kind);
      setData(tile, "online", point.online ? "yes" : "no");
      setText(slot(tile, "name"), point.name);
      setText(slot(tile, "status"), t(`board.state_${kind}`));
      const trouble = point.trouble;
      setText(slot(tile, "trouble"), trouble
        ? `${troubleText(trouble)} · ${t("board.since", { time: fmt.time(trouble.since) })}` : "");
      show(slot(tile, "trouble"), Boolean(trouble));
      const detail = point.checked_in_at
        ? [
          t("board.checked_in", { time: fmt.time(point.checked_in_at), by: isolate(point.checked_in_by) }),
          point.present != null ? t("board.present", { n: point.present }) : "",
          isolate(point.note),
        ].filter(Boolean).join(" · ")
        : "";
      setText(slot(tile, "detail"), detail);
      show(slot(tile, "detail"), Boolean(detail));
      setText(slot(tile, "presence"), point.online ? t("board.online")
        : point.last_seen_at ? t("board.last_seen", { time: fmt.time(point.last_seen_at) })
          : t("board.never_seen"));
      const answered = rollCall && rollCall.answers[point.id];
      setText(slot(tile, "rollcall"), answered ? t("rollcall.answered_at", { time: fmt.time(answered) }) : "");
      show(slot(tile, "rollcall"), Boolean(answered));
    },
  );
  const confirmed = state.points.filter((p) => p.checked_in_at).length;
  const troubles = state.points.filter((p) => p.trouble).length;
  const online = state.points.filter((p) => p.online).length;
  setText(el.boardSummary, [
    t("board.summary_confirmed", { n: confirmed, total: state.points.length }),
    t("board.summary_online", { n: online }),
    troubles ? t("board.summary_trouble", { n: troubles }) : "",
  ].filter(Boolean).join(" · "));
}

function troubleText(trouble) {
  const label = ctx.t(`trouble.${trouble.kind}`);
  return trouble.text ? `${label}: ${isolate(trouble.text)}` : label;
}

// -- roll call --------------------------------------------------------------------------------

function renderRollCall() {
  const state = ctx.live.state;
  const { t, fmt } = ctx;
  const rollCall = state.roll_call;
  if (!rollCall) {
    setText(el.rollcallStatus, t("rollcall.none"));
    setText(el.rollcallMissing, "");
    return;
  }
  const answered = state.points.filter((p) => rollCall.answers[p.id]);
  const missing = state.points.filter((p) => !rollCall.answers[p.id]);
  const left = (Date.parse(rollCall.closes_at) - ctx.live.clock.now()) / 1000;
  const counts = { n: answered.length, total: state.points.length };
  setText(el.rollcallStatus, left > 0
    ? t("rollcall.open", { left: fmt.duration(left), ...counts })
    : t("rollcall.closed", { time: fmt.time(rollCall.started_at), ...counts }));
  setText(el.rollcallMissing, missing.length
    ? t("rollcall.missing", { names: missing.map((p) => isolate(p.name)).join(", ") })
    : t("rollcall.everyone"));
}

async function startRollCall(event) {
  event.preventDefault();
  const seconds = Number(el.rollcallSeconds.value);
  if (!Number.isInteger(seconds) || seconds < 5 || seconds > 600) {
    el.rollcallSeconds.setCustomValidity(ctx.t("rollcall.seconds_invalid"));
    el.rollcallSeconds.reportValidity();
    return;
  }
  el.rollcallSeconds.setCustomValidity("");
  el.rollcallStart.disabled = true;
  const result = await ctx.live.act("roll_call", { seconds });
  el.rollcallStart.disabled = !online();
  if (!result.ok) setText(el.rollcallStatus, errorText(ctx.t, result));
}

// -- messages ----------------------------------------------------------------------------------

function renderMessageTargets(state) {
  const select = el.messageTo;
  const wanted = ["", ...state.points.map((p) => p.id)];
  const have = Array.from(select.options).map((o) => o.value);
  if (wanted.join("\n") === have.join("\n")) return;
  const chosen = select.value;
  while (select.options.length > 1) select.remove(1);
  for (const point of state.points) select.add(new Option(point.name, point.id));
  select.value = wanted.includes(chosen) ? chosen : "";
}

function renderMessages(state) {
  const { t, fmt } = ctx;
  const messages = (state.messages || []).slice().reverse();
  show(el.messagesEmpty, messages.length === 0);
  syncChildren(
    el.messages,
    messages,
    (message) => message.id,
    () => cloneTemplate("tpl-message"),
    (item, message) => {
      const readers = Object.keys(message.read_by);
      setText(slot(item, "to"), message.to
        ? t("messages.to_point", { point: isolate(pointName(state, message.to)) }) : t("messages.to_all"));
      setText(slot(item, "sent"), fmt.time(message.sent_at));
      setText(slot(item, "text"), message.text);
      if (message.to) {
        const readAt = message.read_by[message.to];
        setText(slot(item, "reads"), readAt
          ? t("messages.read_at", { time: fmt.time(readAt) }) : t("messages.not_read"));
        setText(slot(item, "unread"), "");
        setData(item, "read", readAt ? "all" : "none");
      } else {
        const unread = state.points.filter((p) => !message.read_by[p.id]);
        setText(slot(item, "reads"), t("messages.read_count", {
          n: readers.length, total: state.points.length,
        }));
        setText(slot(item, "unread"), unread.length
          ? t("messages.unread_by", { names: unread.map((p) => isolate(p.name)).join(", ") }) : "");
        setData(item, "read", unread.length === 0 ? "all" : readers.length ? "some" : "none");
      }
    },
  );
}

async function sendMessage(event) {
  event.preventDefault();
  const text = el.messageText.value.trim();
  if (!text) {
    setText(el.messageError, ctx.t("messages.empty"));
    show(el.messageError, true);
    el.messageText.focus();
    return;
  }
  el.messageSend.disabled = true;
  const to = el.messageTo.value || null;
  const result = await ctx.live.act("message", { text, to });
  el.messageSend.disabled = !online();
  if (result.ok) {
    // Empty the box once what it said is sent, not what was typed since.
    if (el.messageText.value.trim() === text) el.messageText.value = "";
    show(el.messageError, false);
  } else {
    setText(el.messageError, errorText(ctx.t, result));
    show(el.messageError, true);
  }
}

// -- the page ------------------------------------------------------------------------------------

function online() {
  return ctx !== null && ctx.live !== null && ctx.live.status === "online";
}

function renderAll() {
  const state = ctx.live.state;
  renderNow(state);
  renderTimers();
  renderRunsheet(state);
  renderBoard(state);
  renderRollCall();
  renderMessageTargets(state);
  renderMessages(state);
  el.rollcallStart.disabled = !online();
  el.messageSend.disabled = !online();
}

ctx = startActingPage({
  draw: (context) => {
    ctx = context;
    renderAll();
  },
  tick: () => {
    renderTimers();
    renderRollCall();
  },
  banners: { offline: el.offline, refused: el.refused },
});

el.next.addEventListener("click", pressNext);
el.back.addEventListener("click", askBack);
el.finish.addEventListener("click", askFinish);
el.reset.addEventListener("click", askReset);
el.rollcallForm.addEventListener("submit", startRollCall);
el.messageForm.addEventListener("submit", sendMessage);
document.addEventListener("keydown", onKey);
