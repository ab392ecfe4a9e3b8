// One list of the plan in the editor (points, programme, week, deadlines, slogans): add,
// remove, duplicate, and reorder by dragging an entry's handle or with the arrow keys on
// it (each move said aloud through the page's aria-live region). Entries the ceremony has
// already reached are shown read-only and nothing moves above them.

import { buildField, slugOf, uniqueId } from "./plan-form.js";

const keys = new WeakMap();
let keyCounter = 0;

/** Return a stable key for a record (it survives reordering). */
export function keyOf(record) {
  if (!keys.has(record)) keys.set(record, `e${(keyCounter += 1)}`);
  return keys.get(record);
}

export class ListEditor {
  /**
   * options: {name, list (<ol>), t, has, fields, blank(), titleKey, entries(), isLocked(record),
   * lockedLabel(record), points(), onChange(structural), announce(text), autoIds (WeakSet)}
   */
  constructor(options) {
    Object.assign(this, options);
    this.expanded = new Set(); // the keys of folded entries opened to edit
    this.drag = null; // {record, item, startY, target, moved}: an entry being dragged by its handle
  }

  /** Return the first position an entry that is not locked may take. */
  floor() {
    const entries = this.entries();
    let floor = 0;
    entries.forEach((record, index) => {
      if (this.isLocked(record)) floor = index + 1;
    });
    return floor;
  }

  titleOf(record) {
    const title = record[this.titleKey];
    return typeof title === "string" && title.trim() ? title.trim() : this.t("organizer.untitled");
  }

  /** Redraw every entry; the focused control keeps the focus. */
  render() {
    const active = document.activeElement;
    const focus = active && this.list.contains(active) ? focusAddress(active) : null;
    const entries = this.entries();
    const floor = this.floor();
    this.list.replaceChildren(...entries.map((record, index) => this.entryElement(record, index, entries.length, floor)));
    if (focus) restoreFocus(this.list, focus);
  }

  entryElement(record, index, count, floor) {
    const t = this.t;
    const locked = this.isLocked(record);
    const item = document.createElement("li");
    item.className = "org-entry";
    item.dataset.key = keyOf(record);
    item.dataset.path = `${this.name}[${index}]`;
    item.dataset.locked = locked ? "yes" : "no";
    const problem = document.createElement("p");
    problem.className = "org-problem";
    problem.id = `${this.name}-${item.dataset.key}-problem`;
    problem.hidden = true;
    item.dataset.problemId = problem.id;

    const head = document.createElement("div");
    head.className = "org-entry-head";
    const number = document.createElement("span");
    number.className = "org-entry-number";
    number.textContent = String(index + 1);
    const title = document.createElement("span");
    title.className = "org-entry-title user-text";
    title.dataset.slot = "title";
    title.textContent = this.titleOf(record);
    if (!locked) {
      // A focusable span, not a <button>: browsers start no drag from a form control.
      const handle = document.createElement("span");
      handle.className = "org-handle";
      handle.textContent = "⠿";
      handle.tabIndex = 0;
      handle.setAttribute("role", "button");
      handle.setAttribute("aria-label", t("organizer.list.move_label", { title: this.titleOf(record), position: index + 1, count }));
      handle.dataset.action = "handle";
      handle.setAttribute("aria-describedby", "reorder-hint");
      handle.addEventListener("keydown", (event) => this.handleKey(event, record));
      handle.addEventListener("pointerdown", (event) => this.grab(event, record, item, handle));
      head.append(handle);
    }
    head.append(number, title);
    if (this.headNote) {
      const note = document.createElement("span");
      note.className = "org-entry-note";
      note.dataset.slot = "note";
      note.textContent = this.headNote(record, index);
      head.append(note);
    }
    if (locked) {
      const status = document.createElement("span");
      status.className = "org-entry-status";
      status.textContent = this.lockedLabel(record);
      head.append(status);
    }
    const tools = document.createElement("span");
    tools.className = "org-entry-tools";
    const label = (key) => t(key, { title: this.titleOf(record) });
    if (!locked) {
      const up = this.button("org-tool", "↑", label("organizer.list.up"));
      up.dataset.action = "up";
      up.disabled = index <= floor;
      up.addEventListener("click", () => this.move(record, index - 1));
      const down = this.button("org-tool", "↓", label("organizer.list.down"));
      down.dataset.action = "down";
      down.disabled = index >= count - 1;
      down.addEventListener("click", () => this.move(record, index + 1));
      tools.append(up, down);
    }
    const copy = this.button("org-tool", t("organizer.list.duplicate"), label("organizer.list.duplicate_label"));
    copy.dataset.action = "duplicate";
    copy.addEventListener("click", () => this.duplicate(record));
    tools.append(copy);
    if (!locked) {
      const remove = this.button("org-tool org-tool-danger", t("organizer.list.remove"), label("organizer.list.remove_label"));
      remove.dataset.action = "remove";
      remove.addEventListener("click", () => this.remove(record));
      tools.append(remove);
    }
    head.append(tools);
    item.append(head);

    if (this.collapsible) {
      const open = this.expanded.has(item.dataset.key);
      const toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "org-tool org-toggle";
      toggle.dataset.action = "toggle";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      toggle.setAttribute("aria-controls", `${item.dataset.key}-body`);
      toggle.setAttribute("aria-label", label("organizer.list.edit_label"));
      for (const [className, key] of [["org-when-closed", "organizer.list.edit"], ["org-when-open", "organizer.list.fold"]]) {
        const text = document.createElement("span");
        text.className = className;
        text.textContent = t(key);
        toggle.append(text);
      }
      toggle.addEventListener("click", () => {
        const opening = toggle.getAttribute("aria-expanded") !== "true";
        if (opening) this.expanded.add(item.dataset.key);
        else this.expanded.delete(item.dataset.key);
        toggle.setAttribute("aria-expanded", opening ? "true" : "false");
        body.hidden = !opening;
      });
      tools.prepend(toggle);
    }
    const body = document.createElement("div");
    body.className = "org-entry-body";
    body.id = `${item.dataset.key}-body`;
    body.hidden = Boolean(this.collapsible) && !this.expanded.has(item.dataset.key);
    const main = document.createElement("div");
    main.className = "org-fields";
    const more = document.createElement("div");
    more.className = "org-fields org-more-body";
    for (const spec of this.fields) {
      const field = buildField({
        spec,
        record,
        section: this.name,
        path: `${this.name}[${index}]`,
        t,
        has: this.has,
        locked,
        points: this.points,
        titleKey: this.titleKey,
        onChange: (key) => {
          if (key === this.titleKey) title.textContent = this.titleOf(record);
          this.onChange(false, this.name, key);
        },
        onTitle: (entry, value) => this.followTitle(entry, value, item),
        onIdTyped: (entry) => this.autoIds.delete(entry),
      });
      (spec.more ? more : main).append(field);
    }
    body.append(main);
    if (more.childElementCount) {
      const details = document.createElement("details");
      details.className = "org-more";
      const summary = document.createElement("summary");
      summary.textContent = t("organizer.list.more");
      details.append(summary, more);
      body.append(details);
    }
    item.append(body, problem);
    return item;
  }

  /** Rewrite each entry's note (e.g. its planned start) after a change elsewhere. */
  refreshNotes() {
    if (!this.headNote) return;
    const entries = this.entries();
    Array.from(this.list.children).forEach((element, index) => {
      const note = element.querySelector('[data-slot="note"]');
      if (note && entries[index]) note.textContent = this.headNote(entries[index], index);
    });
  }

  button(className, text, label) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = className;
    button.textContent = text;
    if (label && label !== text) button.setAttribute("aria-label", label);
    return button;
  }

  /** A new entry's id follows its title until someone types the id. */
  followTitle(record, value, item) {
    if (!this.autoIds.has(record)) return;
    const taken = new Set(this.entries().filter((other) => other !== record).map((other) => other.id));
    record.id = uniqueId(slugOf(value), taken);
    const idInput = item.querySelector('[data-key="id"] input');
    if (idInput) idInput.value = record.id;
  }

  add() {
    const entries = this.entries();
    const record = this.blank();
    const taken = new Set(entries.map((entry) => entry.id));
    if ("id" in record) record.id = uniqueId(this.name === "points" ? "diem-cau" : "muc", taken);
    this.autoIds.add(record);
    this.expanded.add(keyOf(record));
    entries.push(record);
    this.onChange(true, this.name);
    this.render();
    this.announce(this.t("organizer.list.added", { position: entries.length }));
    const first = this.list.lastElementChild && this.list.lastElementChild.querySelector(".org-fields input, .org-fields select, .org-fields textarea");
    if (first) first.focus();
  }

  duplicate(record) {
    const entries = this.entries();
    const copy = structuredClone(record);
    if ("id" in copy) copy.id = uniqueId(record.id || "muc", new Set(entries.map((entry) => entry.id)));
    this.expanded.add(keyOf(copy));
    const at = Math.max(entries.indexOf(record) + 1, this.floor());
    entries.splice(at, 0, copy);
    this.onChange(true, this.name);
    this.render();
    this.announce(this.t("organizer.list.duplicated", { title: this.titleOf(record), position: at + 1 }));
    const element = this.list.children[at];
    const focusable = element && element.querySelector(".org-fields input, .org-fields select, .org-fields textarea");
    if (focusable) focusable.focus();
  }

  remove(record) {
    const entries = this.entries();
    const index = entries.indexOf(record);
    if (index < 0 || this.isLocked(record)) return;
    entries.splice(index, 1);
    this.onChange(true, this.name);
    this.render();
    this.announce(this.t("organizer.list.removed", { title: this.titleOf(record) }));
    const next = this.list.children[Math.min(index, this.list.children.length - 1)];
    const focusable = next && next.querySelector("button");
    if (focusable) focusable.focus();
    else this.addButton?.focus();
  }

  /** Move an entry to a position (kept below the entries already done or live). */
  move(record, target, { focusHandle = false } = {}) {
    const entries = this.entries();
    const from = entries.indexOf(record);
    const to = Math.min(Math.max(target, this.floor()), entries.length - 1);
    if (from < 0 || from === to || this.isLocked(record)) return;
    entries.splice(from, 1);
    entries.splice(to, 0, record);
    this.onChange(true, this.name);
    this.render();
    this.announce(this.t("organizer.list.moved", { title: this.titleOf(record), position: to + 1, count: entries.length }));
    const element = this.list.children[to];
    const focus = element && element.querySelector(focusHandle ? '[data-action="handle"]' : `[data-action="${to < from ? "up" : "down"}"]`);
    if (focus && !focus.disabled) focus.focus();
    else if (element) element.querySelector('[data-action="handle"]')?.focus();
  }

  handleKey(event, record) {
    const index = this.entries().indexOf(record);
    const target = { ArrowUp: index - 1, ArrowDown: index + 1, Home: 0, End: this.entries().length - 1 }[event.key];
    if (target === undefined) return;
    event.preventDefault();
    this.move(record, target, { focusHandle: true });
  }

  /**
   * Drag an entry by its handle with the mouse, a finger or a pen (pointer events, so it
   * works on a phone too): the line shows where it will land, letting go moves it there.
   */
  grab(event, record, item, handle) {
    if (event.button !== 0 || this.drag) return;
    event.preventDefault();
    handle.setPointerCapture(event.pointerId);
    this.drag = { record, item, startY: event.pageY, target: null, moved: false };
    const onMove = (move) => this.dragTo(move.clientY, move.pageY);
    const finish = (end) => {
      if (end.type === "pointerup") this.dragTo(end.clientY, end.pageY);
      handle.removeEventListener("pointermove", onMove);
      handle.removeEventListener("pointerup", finish);
      handle.removeEventListener("pointercancel", finish);
      const drag = this.drag;
      this.drag = null;
      item.classList.remove("org-dragging");
      for (const other of this.list.querySelectorAll("[data-drop]")) delete other.dataset.drop;
      if (end.type === "pointerup" && drag.moved && drag.target !== null) {
        this.move(drag.record, drag.target, { focusHandle: true });
      }
    };
    handle.addEventListener("pointermove", onMove);
    handle.addEventListener("pointerup", finish);
    handle.addEventListener("pointercancel", finish);
  }

  dragTo(clientY, pageY) {
    const drag = this.drag;
    if (!drag) return;
    // Measured on the page, not the window: the page may scroll under a resting pointer.
    if (!drag.moved && Math.abs(pageY - drag.startY) < 4) return;
    drag.moved = true;
    drag.item.classList.add("org-dragging");
    const children = Array.from(this.list.children);
    const from = children.indexOf(drag.item);
    const floor = this.floor();
    // The first entry whose middle is below the pointer is where the dragged one goes.
    let before = children.findIndex((child) => {
      const box = child.getBoundingClientRect();
      return clientY < box.top + box.height / 2;
    });
    if (before === -1) before = children.length;
    let target = before > from ? before - 1 : before;
    target = Math.min(Math.max(target, floor), children.length - 1);
    drag.target = target;
    for (const other of this.list.querySelectorAll("[data-drop]")) delete other.dataset.drop;
    if (target === from) return;
    const marker = children[target];
    marker.dataset.drop = target > from ? "after" : "before";
  }
}

function focusAddress(element) {
  const entry = element.closest(".org-entry");
  if (!entry) return null;
  const field = element.closest(".org-field");
  return {
    key: entry.dataset.key,
    field: field ? field.dataset.key : null,
    action: element.dataset.action || null,
    start: element.selectionStart ?? null,
    end: element.selectionEnd ?? null,
  };
}

function restoreFocus(list, address) {
  const entry = list.querySelector(`.org-entry[data-key="${address.key}"]`);
  if (!entry) return;
  let target = null;
  if (address.field) target = entry.querySelector(`.org-field[data-key="${address.field}"] input, .org-field[data-key="${address.field}"] select, .org-field[data-key="${address.field}"] textarea`);
  else if (address.action) target = entry.querySelector(`[data-action="${address.action}"]`);
  if (!target || target.disabled) return;
  target.focus();
  if (address.start !== null && typeof target.setSelectionRange === "function") {
    try {
      target.setSelectionRange(address.start, address.end);
    } catch {
      /* not a text control */
    }
  }
}
