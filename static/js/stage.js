// The stage display: now speaking and next in very large type, a clock, and between
// times the theme with the plan's slogans in turn (every display shows the same slogan,
// since the turn follows the server's clock).

import { liveItem, nextItem, pointName } from "./agenda.js";
import { byId, isolate, setData, setText, show } from "./dom.js";
import { everySecond } from "./live.js";
import { startPage } from "./page.js";

const SLOGAN_SECONDS = 12;

const el = {
  stage: byId("stage"),
  clock: byId("clock"),
  live: byId("stage-live"),
  title: byId("stage-title"),
  speaker: byId("stage-speaker"),
  where: byId("stage-where"),
  idle: byId("stage-idle"),
  idleLabel: byId("stage-idle-label"),
  slogan: byId("stage-slogan"),
  next: byId("stage-next"),
  nextTitle: byId("stage-next-title"),
  nextSpeaker: byId("stage-next-speaker"),
  fullscreen: byId("fullscreen"),
};

let ctx = null;

function render(state, context) {
  ctx = context;
  const { t, fmt } = context;
  const live = liveItem(state);
  const next = nextItem(state);
  setData(el.stage, "phase", state.phase);
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
  show(el.next, Boolean(next));
  setText(el.nextTitle, next ? next.title : "");
  setText(el.nextSpeaker, next ? next.speaker : "");
  tick();
}

function tick() {
  if (!ctx) return;
  const now = ctx.live ? ctx.live.clock.now() : Date.now();
  setText(el.clock, ctx.fmt.time(now));
  el.clock.setAttribute("datetime", new Date(now).toISOString());
  const slogans = ctx.live && ctx.live.state ? ctx.live.state.slogans : [];
  if (slogans.length) {
    const turn = Math.floor(now / 1000 / SLOGAN_SECONDS) % slogans.length;
    if (el.slogan.dataset.turn !== String(turn)) {
      el.slogan.dataset.turn = String(turn);
      setText(el.slogan, slogans[turn]);
    }
  }
  show(el.slogan, slogans.length > 0);
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

// Hide the pointer and the button when the mouse rests, so the room sees only the display.
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
