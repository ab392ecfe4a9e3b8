// The MC console: the run-sheet and its big Next with the speaker's countdown, extend and
// hold, the stage channel, the check-in board with each point's link, messages, roll call.

import { itemClock, liveItem, nextItem, pointName, pointOf, projectedDiffers, projectedStart, remotePointOf, timingAt } from "./agenda.js";
import { Attention } from "./attention.js";
import { Board, linkHealth, tileState } from "./board.js";
import { confirmAction, confirmOpen } from "./confirm.js";
import { countdownAt } from "./countdown.js";
import { byId, cloneTemplate, isolate, setData, setText, show, slot, syncChildren } from "./dom.js";
import { makeTranslator } from "./i18n.js";
import { errorText, readPageData } from "./live.js";
import { startActingPage } from "./page.js";

// The most names a list of points shows (a roll call's missing, a message's unread ones).
const MAX_CHIPS = 100;
// After a move refused as coming right after another, pressing again within this time
// confirms it.
const CONFIRM_WINDOW_MS = 15_000;
const CONSOLE_KEY = "runsheet.console";

let pending = false; // a run-sheet action is on its way: Next waits for its answer
let ctx = null;
let armed = null; // {name, until}: the move the next press confirms (after a just_moved refusal)
let attention = null;
let troublesSeen = null; // the troubles already signalled: "point id|since"
let board = null;

const el = {
  phase: byId("phase"),
  nowTitle: byId("now-title"),
  nowSpeaker: byId("now-speaker"),
  nowMore: byId("now-more"),
  nowPrepared: byId("now-prepared"),
  nowNotes: byId("now-notes"),
  nowAttendees: byId("now-attendees"),
  nowAttendeesSummary: byId("now-attendees-summary"),
  nowAttendeesList: byId("now-attendees-list"),
  consoleName: byId("console-name"),
  timer: byId("timer"),
  remaining: byId("remaining"),
  remainingNote: byId("remaining-note"),
  elapsed: byId("elapsed"),
  planned: byId("planned"),
  bar: byId("elapsed-bar"),
  overUnder: byId("over-under"),
  projectedEnd: byId("projected-end"),
  plannedEnd: byId("planned-end"),
  less: byId("less"),
  more: byId("more"),
  hold: byId("hold"),
  next: byId("next"),
  nextLabel: byId("next-label"),
  nextWhat: byId("next-what"),
  standby: byId("standby"),
  back: byId("back"),
  finish: byId("finish"),
  reset: byId("reset"),
  actionError: byId("action-error"),
  runsheet: byId("runsheet"),
  board: byId("board"),
  boardSummary: byId("board-summary"),
  boardFilter: byId("board-filter"),
  boardSearch: byId("board-search"),
  boardFound: byId("board-found"),
  offline: byId("offline-banner"),
  refused: byId("refused-banner"),
  rollcallForm: byId("rollcall-form"),
  rollcallSeconds: byId("rollcall-seconds"),
  rollcallStart: byId("rollcall-start"),
  rollcallStatus: byId("rollcall-status"),
  rollcallEveryone: byId("rollcall-everyone"),
  rollcallMissingBox: byId("rollcall-missing-box"),
  rollcallMissingSummary: byId("rollcall-missing-summary"),
  rollcallMissing: byId("rollcall-missing"),
  messageForm: byId("message-form"),
  messageTo: byId("message-to"),
  messageText: byId("message-text"),
  messageSend: byId("message-send"),
  messageError: byId("message-error"),
  messages: byId("messages"),
  messagesEmpty: byId("messages-empty"),
  stageNow: byId("stage-now"),
  stageForm: byId("stage-form"),
  stageText: byId("stage-text"),
  stageShow: byId("stage-show"),
  stageBlink: byId("stage-blink"),
  stageBlackout: byId("stage-blackout"),
  stageScreen: byId("stage-screen"),
  stageClear: byId("stage-clear"),
  stageError: byId("stage-error"),
  mute: byId("mute"),
};

/** Return this console's name: chosen once, kept by the browser (e.g. "Máy 3f2a"). */
function consoleName(t) {
  let store = null;
  try {
    store = window.localStorage;
  } catch {
    store = null;
  }
  let name = store ? store.getItem(CONSOLE_KEY) : null;
  if (!name) {
    const code = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, "0");
    name = t("mc.console_default", { code });
    if (store) store.setItem(CONSOLE_KEY, name);
  }
  return name;
}

/** Put names in a list as chips (a compact list that wraps), at most MAX_CHIPS of them. */
function renderChips(list, names) {
  const shown = names.length > MAX_CHIPS
    ? [...names.slice(0, MAX_CHIPS), ctx.t("board.more_names", { n: names.length - MAX_CHIPS })]
    : names;
  syncChildren(list, shown.map((name, index) => ({ name, index })), (entry) => `${entry.index}:${entry.name}`,
    () => {
      const chip = document.createElement("li");
      chip.className = "chip user-text";
      return chip;
    },
    (chip, entry) => setText(chip, entry.name));
}

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
  renderLiveDetails(state, live);
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
  const clock = itemClock(state, ctx.live.clock.now());
  for (const button of [el.less, el.more, el.hold]) button.disabled = pending || !clock || !online();
  el.hold.setAttribute("aria-pressed", String(Boolean(state.hold)));
  setText(el.hold, t(state.hold ? "mc.resume" : "mc.hold"));
  renderStandby(state, action === "advance" ? next : null);
}

/** The live item's preparing unit, notes, and the groups attending at its point. */
function renderLiveDetails(state, live) {
  const { t } = ctx;
  show(el.nowMore, Boolean(live));
  if (!live) return;
  setText(el.nowPrepared, live.prepared_by ? t("mc.prepared_by", { unit: live.prepared_by }) : "");
  show(el.nowPrepared, Boolean(live.prepared_by));
  const notes = planDetails.notes[live.id] || "";
  setText(el.nowNotes, notes);
  show(el.nowNotes, Boolean(notes));
  const point = pointOf(state, live.point_id);
  const groups = (point && planDetails.attendees[point.id]) || [];
  show(el.nowAttendees, groups.length > 0);
  setText(el.nowAttendeesSummary, point
    ? t("mc.attendees", { point: point.name, n: groups.length }) : "");
  renderChips(el.nowAttendeesList, groups);
}

/** Beside Next: whether the remote point that delivers the coming item said it is ready. */
function renderStandby(state, next) {
  const { t, fmt } = ctx;
  const point = state.phase === "live" ? remotePointOf(state, next) : null;
  show(el.standby, Boolean(point));
  if (!point) return;
  const standby = next.standby;
  setData(el.standby, "ready", standby ? "yes" : "no");
  setText(el.standby, standby
    ? t("mc.standby_ready", { point: point.name, time: fmt.time(standby.ready_at) })
    : t("mc.standby_waiting", { point: point.name }));
}

function renderTimers() {
  const state = ctx.live.state;
  const { fmt, t } = ctx;
  const now = ctx.live.clock.now();
  const timing = timingAt(state, now);
  const countdown = countdownAt(state, fmt, now);
  show(el.timer, true);
  setData(el.timer, "level", countdown.held ? "held" : countdown.level);
  setData(el.timer, "blink", countdown.blink ? "yes" : "no");
  setData(el.timer, "kind", countdown.kind);
  setText(el.remaining, countdown.kind === "none" ? "–" : countdown.text);
  // Nothing to count (finished, or a start days away): no empty dashes, only the totals.
  show(el.remaining.closest(".timer-main"), countdown.kind !== "none");
  show(el.elapsed.closest(".timer-sub"), timing.elapsed !== null);
  show(el.bar.parentElement, timing.elapsed !== null);
  setText(el.remainingNote, countdown.kind === "start" ? t("countdown.to_start")
    : countdown.held ? t("countdown.on_hold")
      : countdown.kind === "item" ? t(countdown.remaining > 0 ? "countdown.left" : "countdown.over") : "");
  if (timing.elapsed !== null) {
    setText(el.elapsed, fmt.duration(timing.elapsed));
    setText(el.planned, t("mc.of_planned", { planned: fmt.duration(timing.planned) }));
    el.bar.style.width = `${Math.min(100, (100 * timing.elapsed) / Math.max(1, timing.planned))}%`;
  } else {
    setText(el.elapsed, "–");
    setText(el.planned, "");
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
      const projected = projectedDiffers(item, state) ? t("agenda.projected", { time: fmt.time(projectedStart(item, state)) }) : "";
      setText(slot(row, "projected"), projected);
      show(slot(row, "projected"), Boolean(projected));
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
  const isMove = ["advance", "back", "goto", "finish"].includes(name);
  const confirming = isMove && armed && armed.name === name && Date.now() < armed.until;
  armed = null;
  pending = true;
  renderAll();
  const body = { ...payload, expected_version: ctx.live.state.version };
  if (confirming) body.confirm = true;
  const result = await ctx.live.act(name, body);
  pending = false;
  renderAll();
  if (!result.ok && result.kind === "just_moved") {
    // Another move came a moment ago (this console or another): ask before moving again.
    armed = { name, until: Date.now() + CONFIRM_WINDOW_MS };
    showActionError(justMovedText(result.moved_by), "just_moved");
    return;
  }
  showActionError(result.ok ? null : errorText(ctx.t, result));
}

function justMovedText(movedBy) {
  const { t } = ctx;
  const who = !movedBy ? t("mc.moved_by_someone")
    : movedBy.console && movedBy.console === ctx.live.consoleName ? t("mc.moved_by_this_console")
      : movedBy.console || t(`mc.moved_by_role_${movedBy.role === "mc" ? "mc" : "api"}`);
  return t("mc.just_moved", { who });
}

function showActionError(text, kind = "error") {
  setText(el.actionError, text || "");
  setData(el.actionError, "kind", kind);
  show(el.actionError, Boolean(text));
}

function pressNext() {
  if (el.next.disabled) return;
  const action = nextAction(ctx.live.state);
  // A confirmation of a refused move needs no second dialog.
  if (action === "finish" && !(armed && armed.name === "finish")) askFinish();
  else if (action) perform(action);
}

async function adjustTimer(name, payload = {}) {
  if (pending || !online()) return;
  const result = await ctx.live.act(name, payload);
  showActionError(result.ok ? null : errorText(ctx.t, result));
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

function drawTile(tile, point, now) {
  const { t, fmt } = ctx;
  const rollCall = ctx.live.state.roll_call;
  const kind = tileState(point);
  setData(tile, "state", kind);
  setData(tile, "online", point.online ? "yes" : "no");
  setText(slot(tile, "name"), point.name);
  setText(slot(tile, "status"), t(`board.state_${kind}`));
  const trouble = point.trouble;
  setText(slot(tile, "trouble"), trouble
    ? `${troubleText(trouble)} · ${t("board.since", { time: fmt.time(trouble.since) })}` : "");
  show(slot(tile, "trouble"), Boolean(trouble));
  const clear = slot(tile, "clear");
  show(clear, Boolean(trouble));
  clear.disabled = !online();
  clear.setAttribute("aria-label", t("board.clear_trouble_of", { point: point.name }));
  const detail = point.checked_in_at
    ? [
      t("board.checked_in", { time: fmt.time(point.checked_in_at), by: isolate(point.checked_in_by) }),
      point.present != null ? t("board.present", { n: point.present }) : "",
      isolate(point.note),
    ].filter(Boolean).join(" · ")
    : "";
  setText(slot(tile, "detail"), detail);
  slot(tile, "detail").title = detail;
  show(slot(tile, "detail"), Boolean(detail));
  setText(slot(tile, "presence"), point.online ? t("board.online")
    : point.last_seen_at ? t("board.last_seen", { time: fmt.time(point.last_seen_at) })
      : t("board.never_seen"));
  const health = linkHealth(point, now);
  setData(tile, "link", health);
  const link = slot(tile, "link");
  setText(link, health === "none" ? ""
    : health === "stale" ? t("board.link_stale", { time: fmt.time(point.link.measured_at) })
      : t(health === "slow" ? "board.link_slow" : "board.link_good", { ms: point.link.rtt_ms }));
  show(link, health !== "none");
  if (point.link) {
    link.title = t("board.link_detail", { jitter: point.link.jitter_ms, offset: point.link.clock_offset_ms });
  }
  const answered = rollCall && rollCall.answers[point.id];
  setText(slot(tile, "rollcall"), answered ? t("rollcall.answered_at", { time: fmt.time(answered) }) : "");
  show(slot(tile, "rollcall"), Boolean(answered));
}

function createTile() {
  const tile = cloneTemplate("tpl-tile");
  slot(tile, "clear").addEventListener("click", () => clearTrouble(tile.dataset.key));
  return tile;
}

function renderBoard(state) {
  const { t } = ctx;
  const now = ctx.live.clock.now();
  if (!board) {
    board = new Board({ container: el.board, createTile, drawTile, t });
    board.onChange = () => renderBoard(ctx.live.state);
    board.extraOf = (point) => {
      const rollCall = ctx.live.state.roll_call;
      return `${online()}|${(rollCall && rollCall.answers[point.id]) || ""}`;
    };
  }
  board.t = t;
  board.setFilter(el.boardFilter.value, el.boardSearch.value);
  const searching = board.filter !== "all" || board.query !== "";
  const matched = board.render(state, now);
  setText(el.boardFound, searching
    ? t(matched > board.matchedShown() ? "board.found_some" : "board.found", { n: matched, shown: board.matchedShown() })
    : "");
  show(el.boardFound, searching);
  const points = state.points || [];
  let confirmed = 0;
  let troubles = 0;
  let onlineCount = 0;
  let poor = 0;
  for (const p of points) {
    if (p.checked_in_at) confirmed += 1;
    if (p.trouble) troubles += 1;
    if (p.online) onlineCount += 1;
    const health = linkHealth(p, now);
    if (health === "slow" || health === "stale") poor += 1;
  }
  setText(el.boardSummary, [
    t("board.summary_confirmed", { n: confirmed, total: points.length }),
    t("board.summary_online", { n: onlineCount }),
    troubles ? t("board.summary_trouble", { n: troubles }) : "",
    poor ? t("board.summary_poor_link", { n: poor }) : "",
  ].filter(Boolean).join(" · "));
}

/** A new trouble report draws the MC's attention (sound, vibration, title). */
function signalTroubles(state) {
  const current = new Set(state.points.filter((p) => p.trouble).map((p) => `${p.id}|${p.trouble.since}`));
  if (troublesSeen !== null && [...current].some((key) => !troublesSeen.has(key))) attention.cue();
  troublesSeen = current;
}

async function clearTrouble(pointId) {
  const result = await ctx.live.act("clear_trouble", { point_id: pointId });
  showActionError(result.ok ? null : errorText(ctx.t, result));
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
    show(el.rollcallEveryone, false);
    show(el.rollcallMissingBox, false);
    return;
  }
  const answered = state.points.filter((p) => rollCall.answers[p.id]);
  const missing = state.points.filter((p) => !rollCall.answers[p.id]);
  const left = (Date.parse(rollCall.closes_at) - ctx.live.clock.now()) / 1000;
  const counts = { n: answered.length, total: state.points.length };
  setText(el.rollcallStatus, left > 0
    ? t("rollcall.open", { left: fmt.duration(left), ...counts })
    : t("rollcall.closed", { time: fmt.time(rollCall.started_at), ...counts }));
  show(el.rollcallEveryone, missing.length === 0);
  show(el.rollcallMissingBox, missing.length > 0);
  setText(el.rollcallMissingSummary, t("rollcall.missing_count", { n: missing.length }));
  renderChips(el.rollcallMissing, missing.map((p) => p.name));
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
        show(slot(item, "unread-box"), false);
        setData(item, "read", readAt ? "all" : "none");
      } else {
        const unread = state.points.filter((p) => !message.read_by[p.id]);
        setText(slot(item, "reads"), t("messages.read_count", {
          n: readers.length, total: state.points.length,
        }));
        show(slot(item, "unread-box"), unread.length > 0);
        setText(slot(item, "unread"), t("messages.unread_count", { n: unread.length }));
        renderChips(slot(item, "unread-list"), unread.map((p) => p.name));
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
    // A message to one point is an exception: the next one goes to everyone unless chosen.
    el.messageTo.value = "";
    show(el.messageError, false);
  } else {
    setText(el.messageError, errorText(ctx.t, result));
    show(el.messageError, true);
  }
}

// -- the stage channel ---------------------------------------------------------------------------

let stagePending = false;

function renderStage(state) {
  const { t } = ctx;
  const stage = state.stage || { message: null, blink: false, blackout: false, screen: "programme" };
  const parts = [t(`stagectl.screen_${stage.screen}`)];
  if (stage.message) parts.push(t("stagectl.now_message", { message: stage.message }));
  if (stage.blackout) parts.push(t("stagectl.blackout"));
  setText(el.stageNow, t("stagectl.now", { what: parts.join(" · ") }));
  setData(el.stageNow, "blackout", stage.blackout ? "yes" : "no");
  if (!stagePending) {
    el.stageBlink.checked = Boolean(stage.blink);
    el.stageBlackout.checked = Boolean(stage.blackout);
    el.stageScreen.value = stage.screen;
  }
  const disabled = stagePending || !online();
  for (const control of [el.stageShow, el.stageBlink, el.stageBlackout, el.stageScreen, el.stageClear,
    ...document.querySelectorAll("[data-quick]")]) {
    control.disabled = disabled;
  }
  el.stageClear.disabled = disabled || !stage.message;
}

async function setStage(change) {
  if (stagePending || !online()) return false;
  stagePending = true;
  renderStage(ctx.live.state);
  const result = await ctx.live.act("stage", change);
  stagePending = false;
  renderStage(ctx.live.state);
  setText(el.stageError, result.ok ? "" : errorText(ctx.t, result));
  show(el.stageError, !result.ok);
  return result.ok;
}

async function showStageMessage(event) {
  event.preventDefault();
  const text = el.stageText.value.trim();
  if (!text) {
    setText(el.stageError, ctx.t("stagectl.empty"));
    show(el.stageError, true);
    el.stageText.focus();
    return;
  }
  const ok = await setStage({ message: text, blink: el.stageBlink.checked });
  if (ok && el.stageText.value.trim() === text) el.stageText.value = "";
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
  renderStage(state);
  el.rollcallStart.disabled = !online();
  el.messageSend.disabled = !online();
}

const ownName = consoleName(makeTranslator(readPageData().messages));
// The live item's notes and its point's attendee groups: plan facts, sent once with the page.
const planDetails = readPageData().details || { notes: {}, attendees: {} };
el.consoleName.textContent = ownName;

ctx = startActingPage({
  consoleName: ownName,
  draw: (context) => {
    ctx = context;
    if (!attention) {
      attention = new Attention({ t: context.t, button: el.mute, storageKey: "runsheet.mute.mc" });
    }
    signalTroubles(context.live.state);
    renderAll();
  },
  tick: () => {
    renderTimers();
    renderRollCall();
    renderBoard(ctx.live.state);
  },
  banners: { offline: el.offline, refused: el.refused },
});

el.next.addEventListener("click", pressNext);
el.back.addEventListener("click", askBack);
el.finish.addEventListener("click", askFinish);
el.reset.addEventListener("click", askReset);
el.less.addEventListener("click", () => adjustTimer("extend", { seconds: -60 }));
el.more.addEventListener("click", () => adjustTimer("extend", { seconds: 60 }));
el.hold.addEventListener("click", () => adjustTimer(ctx.live.state.hold ? "resume" : "hold"));
el.rollcallForm.addEventListener("submit", startRollCall);
el.messageForm.addEventListener("submit", sendMessage);
el.stageForm.addEventListener("submit", showStageMessage);
for (const button of document.querySelectorAll("[data-quick]")) {
  button.addEventListener("click", () => setStage({ message: ctx.t(button.dataset.quick), blink: el.stageBlink.checked }));
}
el.stageBlink.addEventListener("change", () => setStage({ blink: el.stageBlink.checked }));
el.stageBlackout.addEventListener("change", () => setStage({ blackout: el.stageBlackout.checked }));
el.stageScreen.addEventListener("change", () => setStage({ screen: el.stageScreen.value }));
el.stageClear.addEventListener("click", () => setStage({ message: null, blink: false }));
el.boardFilter.addEventListener("change", () => renderBoard(ctx.live.state));
el.boardSearch.addEventListener("input", () => renderBoard(ctx.live.state));
document.addEventListener("keydown", onKey);
