// The public page: now speaking, the programme with actual and projected times (and the
// items skipped), the points' status.

import { liveItem, pointName, projectedDiffers, projectedStart } from "./agenda.js";
import { byId, cloneTemplate, isolate, setData, setText, slot, syncChildren } from "./dom.js";
import { startPage } from "./page.js";

const el = {
  phase: byId("phase-line"),
  nowTitle: byId("now-title"),
  nowSpeaker: byId("now-speaker"),
  nowSince: byId("now-since"),
  programme: byId("programme"),
  points: byId("points"),
};

function render(state, { t, fmt }) {
  const live = liveItem(state);
  setData(el.phase, "phase", state.phase);
  setText(el.phase, t(`phase.${state.phase}`));
  if (live) {
    setText(el.nowTitle, live.title);
    const where = pointName(state, live.point_id);
    setText(el.nowSpeaker, [isolate(live.speaker), where && t("common.from_point", { point: isolate(where) })]
      .filter(Boolean).join(" · "));
    setText(el.nowSince, t("public.since", { time: fmt.time(live.started_at) }));
  } else {
    setText(el.nowTitle, t(state.phase === "finished" ? "phase.finished_long" : "phase.not_started_long"));
    setText(el.nowSpeaker, state.phase === "finished" ? ""
      : t("common.starts_at", { time: fmt.time(state.event.starts_at) }));
    setText(el.nowSince, "");
  }

  syncChildren(el.programme, state.agenda, (item) => item.id,
    () => cloneTemplate("tpl-programme-item"),
    (row, item) => {
      setData(row, "status", item.status);
      setText(slot(row, "planned"), fmt.time(item.planned_start));
      const actual = item.started_at
        ? item.ended_at
          ? t("public.actual", { from: fmt.time(item.started_at), to: fmt.time(item.ended_at) })
          : t("agenda.since", { time: fmt.time(item.started_at) })
        : "";
      setText(slot(row, "actual"), actual);
      const projected = projectedDiffers(item, state)
        ? t("agenda.projected", { time: fmt.time(projectedStart(item, state)) }) : "";
      setText(slot(row, "projected"), projected);
      setText(slot(row, "badge"), item.status === "pending" ? "" : t(`status.${item.status}`));
      setText(slot(row, "title"), item.title);
      setText(slot(row, "speaker"), item.speaker);
      if (item.status === "live") row.setAttribute("aria-current", "step");
      else row.removeAttribute("aria-current");
    });

  for (const row of el.points.children) {
    const point = state.points.find((p) => p.id === row.dataset.key);
    if (!point) continue;
    const connected = Boolean(point.checked_in_at) && point.online;
    setData(row, "online", connected ? "yes" : "no");
    setText(slot(row, "state"), connected ? t("public.point_connected") : "");
  }
}

startPage({ render });
document.body.dataset.ready = "yes";
