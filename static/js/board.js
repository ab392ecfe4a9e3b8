// The MC's check-in board: every point as a tile, in groups when the plan has them, with a
// filter (not confirmed, offline, in trouble, slow link) and a search by name.
//
// A national conference has thousands of points, so the board draws only what is open:
// one row per group with its counts (from the state's `groups`), a group's tiles once the
// MC opens it, or the tiles a filter or search finds (at most MAX_TILES). A tile is
// redrawn only when its point changed: patches keep every unchanged point the same object,
// so comparing objects finds the one check-in among 3,500 points.

import { cloneTemplate, setData, setText, slot } from "./dom.js";

// A point's link is shown as poor above this round trip, or when its last measure is old.
export const LINK_SLOW_MS = 300;
export const LINK_STALE_MS = 30_000;
// The most tiles a filter or a search shows at once (the summary says how many matched).
export const MAX_TILES = 300;
export const FILTERS = ["all", "unconfirmed", "offline", "trouble", "slow"];
const GROUP_SEPARATOR = " / ";

/** Return text for searching: lower case, without accents ("Đạ Huoai" finds "da huoai"). */
export function foldText(text) {
  return String(text).normalize("NFD").replace(/\p{M}/gu, "").replace(/[đĐ]/g, "d").toLowerCase();
}

export function tileState(point) {
  if (point.trouble) return "trouble";
  if (!point.checked_in_at) return "unconfirmed";
  return point.online ? "online" : "offline";
}

export function linkHealth(point, now) {
  const link = point.link;
  if (!link) return "none";
  if (now - Date.parse(link.measured_at) > LINK_STALE_MS) return "stale";
  return link.rtt_ms > LINK_SLOW_MS ? "slow" : "good";
}

/** Say whether a point passes a filter (one of FILTERS) at the time `now`. */
export function passes(point, filter, now) {
  if (filter === "unconfirmed") return !point.checked_in_at;
  if (filter === "offline") return !point.online;
  if (filter === "trouble") return Boolean(point.trouble);
  if (filter === "slow") return ["slow", "stale"].includes(linkHealth(point, now));
  return true;
}

function depthOf(path) {
  return path.split(GROUP_SEPARATOR).length - 1;
}

function parentOf(path) {
  const levels = path.split(GROUP_SEPARATOR);
  return levels.length > 1 ? levels.slice(0, -1).join(GROUP_SEPARATOR) : null;
}

export class Board {
  /**
   * container: the board's list; drawTile(tile, point, now) fills a tile; createTile()
   * makes one; t translates. Set onChange() (called when the MC opens or closes a group)
   * and extraOf(point) (text of what else a tile shows, e.g. its roll-call answer: the
   * tile is redrawn when it changes).
   */
  constructor({ container, createTile, drawTile, t }) {
    this.container = container;
    this.createTile = createTile;
    this.drawTile = drawTile;
    this.t = t;
    this.open = new Set(); // the group paths the MC opened
    this.filter = "all";
    this.query = "";
    this.drawn = new Map(); // tile element: [point object drawn, link health drawn]
    this.matched = 0;
  }

  setFilter(filter, query) {
    this.filter = FILTERS.includes(filter) ? filter : "all";
    this.query = foldText(query || "").trim();
  }

  toggle(path) {
    if (this.open.has(path)) this.open.delete(path);
    else this.open.add(path);
  }

  /** Draw the board for `state` at the time `now`; return how many points the view holds. */
  render(state, now) {
    const points = state.points || [];
    const searching = this.filter !== "all" || this.query !== "";
    if (searching) return this.renderFound(points, now);
    if (!state.groups || state.groups.length === 0) {
      this.sync(this.container, points.map((point) => ({ key: point.id, point })), now);
      return points.length;
    }
    return this.renderGroups(state, points, now);
  }

  /** Return how many tiles the last filter or search shows (at most MAX_TILES). */
  matchedShown() {
    return Math.min(this.matched, MAX_TILES);
  }

  renderFound(points, now) {
    const found = [];
    let matched = 0;
    for (const point of points) {
      if (!passes(point, this.filter, now)) continue;
      if (this.query && !this.nameOf(point).includes(this.query)) continue;
      matched += 1;
      if (found.length < MAX_TILES) found.push({ key: point.id, point });
    }
    this.matched = matched;
    this.sync(this.container, found, now);
    return matched;
  }

  nameOf(point) {
    // Folded once per point object (patches keep unchanged points the same object).
    let folded = this.folded && this.folded.get(point);
    if (folded === undefined) {
      if (!this.folded) this.folded = new WeakMap();
      folded = foldText(`${point.name} ${point.id} ${point.group || ""}`);
      this.folded.set(point, folded);
    }
    return folded;
  }

  renderGroups(state, points, now) {
    const byGroup = new Map();
    const loose = [];
    for (const point of points) {
      if (!point.group) loose.push(point);
      else {
        if (!byGroup.has(point.group)) byGroup.set(point.group, []);
        byGroup.get(point.group).push(point);
      }
    }
    const rows = loose.map((point) => ({ key: point.id, point }));
    for (const group of state.groups) {
      const parent = parentOf(group.path);
      if (parent !== null && !this.isOpen(parent)) continue;
      rows.push({ key: `group:${group.path}`, group });
      if (this.open.has(group.path)) {
        for (const point of byGroup.get(group.path) || []) rows.push({ key: point.id, point, depth: depthOf(group.path) + 1 });
      }
    }
    this.sync(this.container, rows, now);
    return points.length;
  }

  isOpen(path) {
    for (let p = path; p !== null; p = parentOf(p)) if (!this.open.has(p)) return false;
    return true;
  }

  sync(container, rows, now) {
    const existing = new Map();
    for (const child of Array.from(container.children)) existing.set(child.dataset.key, child);
    let previous = null;
    for (const row of rows) {
      let element = existing.get(row.key);
      if (element) existing.delete(row.key);
      else {
        element = row.group ? this.createRow(row.group.path) : this.createTile();
        element.dataset.key = row.key;
      }
      if (row.group) this.drawRow(element, row.group);
      else this.drawIfChanged(element, row.point, now);
      setData(element, "depth", row.depth || (row.group ? depthOf(row.group.path) : 0));
      const expected = previous ? previous.nextElementSibling : container.firstElementChild;
      if (expected !== element) container.insertBefore(element, expected);
      previous = element;
    }
    for (const stale of existing.values()) {
      this.drawn.delete(stale);
      stale.remove();
    }
  }

  drawIfChanged(tile, point, now) {
    const health = linkHealth(point, now);
    const extra = this.extraOf ? this.extraOf(point) : "";
    const drawn = this.drawn.get(tile);
    if (drawn && drawn[0] === point && drawn[1] === health && drawn[2] === this.t && drawn[3] === extra) return;
    this.drawTile(tile, point, now);
    this.drawn.set(tile, [point, health, this.t, extra]);
  }

  createRow(path) {
    const row = cloneTemplate("tpl-group");
    const button = slot(row, "toggle");
    button.addEventListener("click", () => {
      this.toggle(path);
      if (this.onChange) this.onChange();
    });
    return row;
  }

  drawRow(row, group) {
    const { t } = this;
    const open = this.open.has(group.path);
    const button = slot(row, "toggle");
    button.setAttribute("aria-expanded", open ? "true" : "false");
    const levels = group.path.split(GROUP_SEPARATOR);
    setText(slot(row, "name"), levels[levels.length - 1]);
    setText(slot(row, "counts"), [
      t("board.group_confirmed", { n: group.confirmed, total: group.points }),
      t("board.group_online", { n: group.online }),
      group.trouble ? t("board.group_trouble", { n: group.trouble }) : "",
    ].filter(Boolean).join(" · "));
    const state = group.trouble ? "trouble" : group.confirmed === group.points ? "online" : "unconfirmed";
    setData(row, "state", state);
  }
}
