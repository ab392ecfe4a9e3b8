// The stage display: now speaking with the speaker's countdown in the largest type, next,
// a clock; between times the theme with the plan's slogans in turn (every display shows the
// same slogan, since the turn follows the server's clock). The MC's stage channel can put a
// message on it, a "please wait" break screen, a big clock, or black it out.
// ?view=timer is the speaker's confidence monitor: the countdown, the title small, the
// MC's message.

import { liveItem, nextItem, pointName } from "./agenda.js";
import { countdownAt, drawCountdown } from "./countdown.js";
import { byId, isolate, setData, setText, show } from "./dom.js";
import { everySecond } from "./live.js";
import { startPage } from "./page.js";

const SLOGAN_SECONDS = 12;

const el = {
  stage: byId("stage"),
  clock: byId("clock"),
  message: byId("stage-message"),
  programme: byId("stage-programme"),
  live: byId("stage-live"),
  title: byId("stage-title"),
  speaker: byId("stage-speaker"),
  where: byId("stage-where"),
  idle: byId("stage-idle"),
  idleLabel: byId("stage-idle-label"),
  slogan: byId("stage-slogan"),
  countdown: byId("countdown"),
  countdownLabel: byId("countdown-label"),
  countdownValue: byId("countdown-value"),
  next: byId("stage-next"),
  nextTitle: byId("stage-next-title"),
  nextSpeaker: byId("stage-next-speaker"),
  breakScreen: byId("stage-break"),
  breakClock: byId("break-clock"),
  breakSlogan: byId("break-slogan"),
  bigClock: byId("stage-bigclock"),
  bigClockValue: byId("big-clock"),
  blackout: byId("stage-blackout"),
  fullscreen: byId("fullscreen"),
};

let ctx = null;

function timerView() {
  return el.stage.dataset.view === "timer";
}

function render(state, context) {
  ctx = context;
  const { t, fmt } = context;
  const live = liveItem(state);
  const next = nextItem(state);
  const stage = state.stage || { message: null, blink: false, blackout: false, screen: "programme" };
  // The speaker's monitor keeps the countdown whatever the room's screen shows.
  const screen = timerView() ? "programme" : stage.screen;
  setData(el.stage, "phase", state.phase);
  setData(el.stage, "screen", screen);
  show(el.programme, screen === "programme");
  show(el.breakScreen, screen === "break");
  show(el.bigClock, screen === "clock");
  show(el.blackout, Boolean(stage.blackout) && !timerView());
  document.body.dataset.blackout = stage.blackout && !timerView() ? "yes" : "no";
  setText(el.message, stage.message || "");
  show(el.message, Boolean(stage.message));
  setData(el.message, "blink", stage.blink ? "yes" : "no");

  show(el.live, Boolean(live));
  show(el.idle, !live);
  if (live) {
    setText(el.title, live.title);
    setText(el.speaker, live.speaker);
    const where = pointName(state, live.point_id);
    setText(el.where, where ? t("common.from_point", { point: isolate(where) }) : "");
  } else {
    setText(el.idleLabel, state.phase === "finished" ? t("stage.finished")
      : t("stage.starts_at", { time: fmt.time(state.event.starts_at), date: fmt.date(state.event.starts_at) }));
  }
  show(el.next, Boolean(next) && screen === "programme" && !timerView());
  setText(el.nextTitle, next ? next.title : "");
  setText(el.nextSpeaker, next ? next.speaker : "");
  tick();
}

function renderCountdown(now) {
  const state = ctx.live.state;
  const { t, fmt } = ctx;
  const countdown = { box: el.countdown, value: el.countdownValue, label: el.countdownLabel };
  drawCountdown(countdown, countdownAt(state, fmt, now), t);
}

function tick() {
  if (!ctx || !ctx.live || !ctx.live.state) return;
  const now = ctx.live.clock.now();
  const time = ctx.fmt.time(now);
  for (const clock of [el.clock, el.breakClock, el.bigClockValue]) {
    setText(clock, time);
    clock.setAttribute("datetime", new Date(now).toISOString());
  }
  const slogans = ctx.live.state.slogans || [];
  if (slogans.length) {
    const turn = Math.floor(now / 1000 / SLOGAN_SECONDS) % slogans.length;
    if (el.slogan.dataset.turn !== String(turn)) {
      el.slogan.dataset.turn = String(turn);
      setText(el.slogan, slogans[turn]);
      setText(el.breakSlogan, slogans[turn]);
    }
  }
  show(el.slogan, slogans.length > 0);
  show(el.breakSlogan, slogans.length > 0);
  renderCountdown(now);
}

const context = startPage({ render });
document.body.dataset.ready = "yes";
everySecond(context.live.clock, tick);

function toggleFullscreen() {
  if (document.fullscreenElement) document.exitFullscreen();
  else document.documentElement.requestFullscreen().catch(() => {});
}
el.fullscreen.addEventListener("click", toggleFullscreen);
document.addEventListener("keydown", (event) => {
  if ((event.key === "f" || event.key === "F") && !event.ctrlKey && !event.metaKey && !event.altKey) {
    toggleFullscreen();
  }
});
document.addEventListener("fullscreenchange", () => {
  show(el.fullscreen, !document.fullscreenElement);
});

// Hide the pointer and the tools when the mouse rests, so the room sees only the display.
const IDLE_MS = 3000;
let idleTimer = null;
function wake() {
  setData(el.stage, "idle", "no");
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => setData(el.stage, "idle", "yes"), IDLE_MS);
}
document.addEventListener("mousemove", wake);
document.addEventListener("keydown", wake);
wake();
