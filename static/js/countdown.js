// The speaker's countdown, as every screen shows it: the live item's time left, its
// warning and danger levels, the overtime with its sign; before the start, the time to it.

import { itemClock } from "./agenda.js";
import { setData, setText, show } from "./dom.js";

// A countdown to the start further away than this is not shown (the date is, instead).
const START_COUNTDOWN_SECONDS = 24 * 3600;
// The overtime blinks for its first seconds, to catch the speaker's eye, then stays red.
const BLINK_OVER_SECONDS = 10;

/** Return "4:05" for a remaining time, "+1:10" for an overtime (remaining below zero). */
export function countdownText(fmt, remaining) {
  if (remaining > 0) return fmt.duration(Math.ceil(remaining));
  return `+${fmt.duration(Math.floor(-remaining))}`;
}

/**
 * Return what a countdown shows at server time nowMs:
 * {kind: "item" | "start" | "none", text, level: "normal" | "warn" | "danger", blink, held,
 * remaining}. "start" counts down to the ceremony's start when it is under 24 hours away.
 */
export function countdownAt(state, fmt, nowMs) {
  const clock = itemClock(state, nowMs);
  if (clock) {
    const { remaining, warn, held } = clock;
    const level = remaining <= 0 ? "danger" : remaining <= warn ? "warn" : "normal";
    return {
      kind: "item",
      text: countdownText(fmt, remaining),
      level,
      blink: !held && remaining <= 0 && -remaining < BLINK_OVER_SECONDS,
      held,
      remaining,
    };
  }
  if (state.phase === "not_started") {
    const toStart = (Date.parse(state.event.starts_at) - nowMs) / 1000;
    if (toStart > 0 && toStart < START_COUNTDOWN_SECONDS) {
      return {
        kind: "start", text: fmt.duration(Math.ceil(toStart)), level: "normal", blink: false,
        held: false, remaining: toStart,
      };
    }
  }
  return { kind: "none", text: "", level: "normal", blink: false, held: false, remaining: null };
}

/**
 * Draw a countdown (from `countdownAt`) into its box, whose data-kind, data-level and
 * data-blink the styles read, its value and its label (to the start, on hold, left, over).
 */
export function drawCountdown({ box, value, label }, shown, t) {
  show(box, shown.kind !== "none");
  setData(box, "kind", shown.kind);
  setData(box, "level", shown.held ? "held" : shown.level);
  setData(box, "blink", shown.blink ? "yes" : "no");
  setText(value, shown.text);
  let words = "";
  if (shown.kind === "start") words = t("countdown.to_start");
  else if (shown.held) words = t("countdown.on_hold");
  else if (shown.kind === "item") words = t(shown.remaining > 0 ? "countdown.left" : "countdown.over");
  setText(label, words);
}
