// The public page: now speaking, the programme with actual and projected times (and the
// items skipped), the points' status. Above 200 points the state carries the groups'
// counts instead of the points: a group the viewer opens fetches its points
// (GET /api/v1/points?group=), again at each change while it stays open.

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
  groups: document.getElementById("public-groups"),
};

let lastTranslator = null;

function pointConnected(point) {
  return Boolean(point.checked_in_at) && point.online;
}

/** Fetch an open group's points and draw them (a newer fetch wins). */
async function loadGroup(row, t) {
  const path = row.dataset.key;
  const asked = (row.dataset.asked = String(Number(row.dataset.asked || 0) + 1));
  let body = null;
  try {
    const answer = await fetch(`/api/v1/points?group=${encodeURIComponent(path)}`);
    body = answer.ok ? await answer.json() : null;
  } catch {
    body = null;
  }
  if (row.dataset.asked !== asked) return;
  const status = slot(row, "status");
  if (!body) {
    setText(status, t("publicgroups.failed"));
    return;
  }
  setText(status, "");
  syncChildren(slot(row, "points"), body.points, (point) => point.id,
    () => {
      const item = document.createElement("li");
      item.className = "point-row";
      const name = document.createElement("span");
      name.className = "point-row-name user-text";
      const state = document.createElement("span");
      state.className = "point-row-state";
      const head = document.createElement("div");
      head.className = "point-row-head";
      head.append(name, state);
      item.append(head);
      return item;
    },
    (item, point) => {
      setText(item.querySelector(".point-row-name"), point.name);
      setData(item, "online", pointConnected(point) ? "yes" : "no");
      setText(item.querySelector(".point-row-state"), pointConnected(point) ? t("public.point_connected") : "");
    });
}

function renderGroups(state, t) {
  lastTranslator = t;
  const counts = new Map((state.groups || []).map((group) => [group.path, group]));
  for (const row of el.groups.children) {
    const group = counts.get(row.dataset.key);
    if (!group) continue;
    setText(slot(row, "counts"), t("publicgroups.counts", { n: group.confirmed, total: group.points }));
    const box = slot(row, "box");
    const seen = `${group.confirmed}|${group.online}|${group.trouble}`;
    if (box.open && row.dataset.seen !== seen) loadGroup(row, t);
    row.dataset.seen = seen;
  }
}

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

  if (el.groups) renderGroups(state, t);
  for (const row of el.points.children) {
    const point = (state.points || []).find((p) => p.id === row.dataset.key);
    if (!point) continue;
    const connected = Boolean(point.checked_in_at) && point.online;
    setData(row, "online", connected ? "yes" : "no");
    setText(slot(row, "state"), connected ? t("public.point_connected") : "");
  }
}

startPage({ render });
if (el.groups) {
  for (const row of el.groups.children) {
    slot(row, "box").addEventListener("toggle", () => {
      if (slot(row, "box").open && lastTranslator) loadGroup(row, lastTranslator);
    });
  }
}
document.body.dataset.ready = "yes";
