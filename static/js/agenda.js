// Reading the state: the live and next items, points by id, timing that ticks locally.

/** Return the live item of the programme, or null. */
export function liveItem(state) {
  return state.agenda.find((item) => item.id === state.current_item_id) || null;
}

/** Return the item the next "Next" would make live, or null. */
export function nextItem(state) {
  return state.agenda.find((item) => item.id === state.next_item_id) || null;
}

/** Return a point's name by id ("" when the plan has no such point). */
export function pointName(state, pointId) {
  const point = (state.points || []).find((p) => p.id === pointId);
  return point ? point.name : "";
}

/**
 * Return the timing at server time nowMs: the live item's elapsed and planned seconds,
 * the ceremony's over/under and its projected end. The server computed them at
 * timing.computed_at; since then only the running item's overrun (or, before the start,
 * the delay) has grown, which is all that is added here.
 */
export function timingAt(state, nowMs) {
  const timing = state.timing;
  const computedAt = Date.parse(timing.computed_at);
  const projectedEnd = Date.parse(timing.projected_end);
  const plannedEnd = Date.parse(timing.planned_end);
  const live = liveItem(state);
  if (state.phase === "live" && live && live.started_at) {
    const { elapsed, planned } = itemClock(state, nowMs);
    const elapsedThen = timing.item_elapsed_seconds ?? elapsed;
    const extra = Math.max(0, elapsed - planned) - Math.max(0, elapsedThen - planned);
    return {
      elapsed: Math.max(0, elapsed),
      planned,
      overUnder: timing.over_under_seconds + extra,
      drift: timing.drift_seconds + extra,
      projectedEnd: projectedEnd + extra * 1000,
      plannedEnd,
    };
  }
  if (state.phase === "not_started") {
    const startsAt = Date.parse(state.event.starts_at);
    const extra = Math.max(nowMs, startsAt) - Math.max(computedAt, startsAt);
    return {
      elapsed: null,
      planned: null,
      overUnder: timing.over_under_seconds + extra / 1000,
      drift: null,
      projectedEnd: projectedEnd + extra,
      plannedEnd,
    };
  }
  return {
    elapsed: null,
    planned: null,
    overUnder: timing.over_under_seconds,
    drift: timing.drift_seconds,
    projectedEnd,
    plannedEnd,
  };
}

/**
 * Return the live item's clock at server time nowMs: seconds elapsed (time on hold not
 * counted), planned (with extensions), remaining (negative when over), the warning
 * threshold, and whether it is on hold. Null when no item is live.
 */
export function itemClock(state, nowMs) {
  const live = liveItem(state);
  const timing = state.timing;
  if (state.phase !== "live" || !live || !live.started_at) return null;
  const planned = timing.item_planned_seconds ?? live.planned_minutes * 60;
  const held = Boolean(state.hold);
  let elapsed;
  if (timing.item_elapsed_seconds == null) elapsed = (nowMs - Date.parse(live.started_at)) / 1000;
  else {
    // The server measured at computed_at; on hold the clock stands still since then.
    const since = held ? 0 : (nowMs - Date.parse(timing.computed_at)) / 1000;
    elapsed = timing.item_elapsed_seconds + Math.max(0, since);
  }
  elapsed = Math.max(0, elapsed);
  return {
    elapsed,
    planned,
    remaining: planned - elapsed,
    warn: timing.item_warn_seconds ?? 120,
    held,
  };
}

/** Return the point an item is delivered from, or null. */
export function pointOf(state, pointId) {
  return (state.points || []).find((p) => p.id === pointId) || null;
}

/**
 * Return when a pending item should start now (ms), or null. The state's projected starts
 * are worked out as of its last change; `timing.reflow_seconds` is how much later they are
 * as of the state's sending (a live item running over, or a timer on hold).
 */
export function projectedStart(item, state) {
  if (!item.projected_start) return null;
  const reflow = item.status === "pending" ? (state.timing.reflow_seconds || 0) * 1000 : 0;
  return Date.parse(item.projected_start) + reflow;
}

/** Return whether an item's projected start differs from its planned one by a minute or more. */
export function projectedDiffers(item, state) {
  if (!item.projected_start || item.status !== "pending") return false;
  return Math.abs(projectedStart(item, state) - Date.parse(item.planned_start)) >= 60_000;
}

/**
 * Return the remote point (a ward, not a room at the central site, where the MC is) that
 * delivers an item, or null: only such a point gets standby cues.
 */
export function remotePointOf(state, item) {
  const point = item && item.point_id ? pointOf(state, item.point_id) : null;
  return point && point.kind !== "room" ? point : null;
}
