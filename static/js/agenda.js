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
  const point = state.points.find((p) => p.id === pointId);
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
    const elapsed = (nowMs - Date.parse(live.started_at)) / 1000;
    const planned = timing.item_planned_seconds ?? live.planned_minutes * 60;
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
