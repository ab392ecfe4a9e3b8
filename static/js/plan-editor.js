// The plan editor: loads the plan (GET /api/v1/plan), lets the organizer change every
// section, has each change checked by the server as they type (POST /api/v1/plan/check,
// the loader's own rules, in the page's language) and saves one revision with
// PUT /api/v1/plan. Someone else's save in between (409) offers to reload; refused
// problems (422) show at their fields. Items the ceremony has reached stay read-only.

import { confirmAction } from "./confirm.js";
import { byId, setText, show } from "./dom.js";
import { ListEditor } from "./list-editor.js";
import { callApi, withQuery } from "./organizer-api.js";
import { EVENT_FIELDS, LISTS } from "./plan-fields.js";
import { buildField, fillSelect, showProblems } from "./plan-form.js";

const CHECK_DELAY_MS = 350;
const LOCKED_STATUSES = new Set(["live", "done", "skipped"]);
const SLOGAN_FIELDS = [{ key: "text", type: "text", required: true, full: true }];

export class PlanEditor {
  constructor({ t, has, lang, fmt, announce, live }) {
    Object.assign(this, { t, has, lang, fmt, announce, live });
    this.draft = null;
    this.slogans = [];
    this.revision = null;
    this.baseline = "";
    this.statuses = new Map();
    this.loaded = new WeakSet(); // the records as loaded: only these can be locked
    this.autoIds = new WeakSet();
    this.checkTimer = null;
    this.checkSerial = 0;
    this.edits = 0; // changes typed since the page opened: a reload on its way must not drop them
    this.problems = [];
    this.saving = false;
    this.stale = false;
    this.fingerprint = null;
    this.el = {
      form: byId("plan-form"),
      loading: byId("plan-loading"),
      eventFields: byId("event-fields"),
      conferenceFields: byId("event-conference-fields"),
      saveStatus: byId("save-status"),
      checkStatus: byId("check-status"),
      problemList: byId("plan-problems"),
      save: byId("save-plan"),
      discard: byId("discard-plan"),
      staleNotice: byId("stale-notice"),
      reload: byId("reload-plan"),
      total: byId("agenda-total"),
    };
    this.lists = {};
    for (const name of ["points", "agenda", "activities", "deadlines", "slogans"]) {
      const spec = LISTS[name];
      this.lists[name] = new ListEditor({
        name,
        list: byId(`list-${name}`),
        addButton: byId(`add-${name}`),
        t,
        has,
        fields: spec ? spec.fields : SLOGAN_FIELDS,
        blank: spec ? spec.blank : () => ({ text: "" }),
        titleKey: spec ? spec.title : "text",
        entries: () => (name === "slogans" ? this.slogans : this.draft[name]),
        isLocked: (record) => name === "agenda" && this.isLocked(record),
        lockedLabel: (record) => t(`status.${this.statuses.get(record.id)}`),
        points: () => this.draft.points,
        onChange: (structural, section, key) => this.changed(structural, section, key),
        announce,
        autoIds: this.autoIds,
        headNote: name === "agenda" ? (record, index) => this.plannedStartOf(index) : null,
        collapsible: name === "points", // thirteen or thousands: a list of names, each opened to edit
      });
      byId(`add-${name}`).addEventListener("click", () => this.lists[name].add());
    }
    this.el.save.addEventListener("click", () => this.save());
    this.el.discard.addEventListener("click", () => this.discard());
    this.el.reload.addEventListener("click", () => this.load());
    this.el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    window.addEventListener("beforeunload", (event) => {
      if (this.isDirty()) event.preventDefault();
    });
  }

  // -- loading ---------------------------------------------------------------------------

  /**
   * Fetch the plan and show it. An automatic reload (someone else saved) keeps what the
   * organizer typed while it was on its way: the page then says the plan is stale instead.
   */
  async load({ automatic = false } = {}) {
    const editsBefore = this.edits;
    const answer = await callApi("GET", "/api/v1/plan");
    if (automatic && this.edits !== editsBefore && this.isDirty()) {
      this.stale = true;
      this.updateStatus();
      return false;
    }
    if (!answer.ok) {
      this.el.loading.textContent = this.t("organizer.plan.load_failed", { reason: this.reason(answer) });
      this.el.loading.dataset.state = "failed";
      return false;
    }
    this.setPlan(answer.body);
    return true;
  }

  setPlan(body) {
    const { revision, ...plan } = body;
    for (const key of ["points", "agenda", "activities", "deadlines"]) if (!Array.isArray(plan[key])) plan[key] = [];
    if (!plan.event || typeof plan.event !== "object") plan.event = {};
    this.draft = plan;
    this.slogans = (Array.isArray(plan.slogans) ? plan.slogans : []).map((text) => ({ text }));
    for (const record of plan.agenda) this.loaded.add(record);
    this.revision = revision ?? null;
    this.baseline = JSON.stringify(this.payload());
    this.problems = [];
    this.stale = false;
    show(this.el.loading, false);
    show(this.el.form, true);
    this.renderAll();
    this.updateStatus();
    document.body.dataset.plan = "loaded";
  }

  renderAll() {
    const fields = (group) =>
      EVENT_FIELDS.filter((spec) => (spec.group || "") === group).map((spec) =>
        buildField({
          spec,
          record: this.draft.event,
          section: "event",
          path: "event",
          t: this.t,
          has: this.has,
          locked: spec.key === "starts_at" && this.started(),
          points: () => this.draft.points,
          onChange: (key) => this.changed(false, "event", key),
        }),
      );
    this.el.eventFields.replaceChildren(...fields(""));
    this.el.conferenceFields.replaceChildren(...fields("conference"));
    for (const list of Object.values(this.lists)) list.render();
    this.updateTotals();
    this.placeProblems();
  }

  // -- the live ceremony -------------------------------------------------------------------

  /** Take a pushed state: which items are done or live, and whether the plan changed. */
  applyState(state) {
    const statuses = new Map(state.agenda.map((item) => [item.id, item.status]));
    const lockedBefore = this.lockedIds();
    this.statuses = statuses;
    // What the state carries of the plan: a change there is someone's save (the week and
    // the deadlines ride in no state; a save of those alone is caught by the save's 409).
    // The event's fields in a fixed order: the page's embedded state and the pushed one
    // may list them in different orders, and that is no change.
    const print = JSON.stringify([
      Object.entries(state.event).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      state.agenda.map((item) => [item.id, item.title, item.speaker, item.point_id, item.planned_minutes]),
      state.points.map((point) => [point.id, point.name, point.kind]),
      state.slogans || [],
    ]);
    const planChanged = this.fingerprint !== null && print !== this.fingerprint;
    this.fingerprint = print;
    if (!this.draft) return;
    if (planChanged && !this.saving) {
      if (this.isDirty()) {
        this.stale = true; // saving now would be refused: say so before they try
        this.updateStatus();
      } else {
        this.load({ automatic: true });
        return;
      }
    }
    if (lockedBefore !== this.lockedIds()) {
      this.lists.agenda.render();
      this.placeProblems();
    }
  }

  lockedIds() {
    return [...this.statuses].filter(([, status]) => LOCKED_STATUSES.has(status)).map(([id]) => id).join(" ");
  }

  isLocked(record) {
    return this.loaded.has(record) && LOCKED_STATUSES.has(this.statuses.get(record.id));
  }

  started() {
    return [...this.statuses.values()].some((status) => LOCKED_STATUSES.has(status));
  }

  // -- changes and checks ----------------------------------------------------------------------

  changed(structural, section, key) {
    this.edits += 1;
    if (section === "points" && (structural || key === "name" || key === "id")) this.refreshPointChoices();
    if (section === "agenda" || (section === "event" && key === "starts_at")) this.updateTotals();
    this.updateStatus();
    this.scheduleCheck();
  }

  refreshPointChoices() {
    for (const select of this.lists.agenda.list.querySelectorAll('.org-field-point select')) {
      const entry = select.closest(".org-entry");
      const record = this.draft.agenda[Array.from(entry.parentElement.children).indexOf(entry)];
      if (record) fillSelect(select, { spec: { key: "point", type: "point" }, record, t: this.t, points: () => this.draft.points });
    }
  }

  plannedStartOf(index) {
    const start = Date.parse(this.draft.event.starts_at || "");
    if (Number.isNaN(start)) return "";
    const minutes = this.draft.agenda.slice(0, index).reduce((sum, item) => sum + (Number(item.planned_minutes) || 0), 0);
    return this.fmt.time(new Date(start + minutes * 60_000));
  }

  updateTotals() {
    this.lists.agenda.refreshNotes();
    const minutes = this.draft.agenda.reduce((sum, item) => sum + (Number(item.planned_minutes) || 0), 0);
    const start = Date.parse(this.draft.event.starts_at || "");
    const end = Number.isNaN(start) ? "" : this.fmt.time(new Date(start + minutes * 60_000));
    setText(this.el.total, this.t("organizer.agenda.total", { count: this.draft.agenda.length, minutes, end }));
  }

  /** The plan as the file writes it (no revision): what the check and the save send. */
  payload() {
    return { ...this.draft, slogans: this.slogans.map((record) => record.text) };
  }

  isDirty() {
    return this.draft !== null && JSON.stringify(this.payload()) !== this.baseline;
  }

  scheduleCheck() {
    clearTimeout(this.checkTimer);
    setText(this.el.checkStatus, this.t("organizer.check.waiting"));
    this.el.checkStatus.dataset.state = "waiting";
    this.checkTimer = setTimeout(() => this.check(), CHECK_DELAY_MS);
  }

  async check() {
    const serial = (this.checkSerial += 1);
    const answer = await callApi("POST", withQuery("/api/v1/plan/check", { lang: this.lang }), { json: this.payload() });
    if (serial !== this.checkSerial) return; // a later check is on its way
    if (answer.ok || answer.status === 422) {
      this.problems = Array.isArray(answer.body.problems) ? answer.body.problems : [];
      this.placeProblems();
      this.el.checkStatus.dataset.state = this.problems.length ? "problems" : "ok";
      setText(
        this.el.checkStatus,
        this.problems.length ? this.t("organizer.check.problems", { count: this.problems.length }) : this.t("organizer.check.ok"),
      );
    } else {
      this.el.checkStatus.dataset.state = "unavailable";
      setText(this.el.checkStatus, this.t("organizer.check.unavailable", { reason: this.reason(answer) }));
    }
    this.updateStatus();
  }

  placeProblems() {
    const unplaced = showProblems(this.el.form, this.problems);
    this.el.problemList.replaceChildren(
      ...unplaced.map((problem) => {
        const item = document.createElement("li");
        item.textContent = problem.path ? `${problem.path}: ${problem.message}` : problem.message;
        return item;
      }),
    );
    show(this.el.problemList, unplaced.length > 0);
  }

  // -- saving ------------------------------------------------------------------------------------

  async save() {
    if (this.saving || !this.draft) return;
    clearTimeout(this.checkTimer);
    this.saving = true;
    this.updateStatus();
    const sent = this.payload();
    const answer = await callApi("PUT", withQuery("/api/v1/plan", { lang: this.lang }), {
      json: { ...sent, expected_revision: this.revision },
    });
    this.saving = false;
    if (answer.ok) {
      this.revision = answer.body.revision ?? this.revision;
      this.baseline = JSON.stringify(sent);
      for (const record of this.draft.agenda) this.loaded.add(record);
      this.problems = [];
      this.placeProblems();
      this.stale = false;
      this.lastSaved = new Date();
      if (answer.body.version !== undefined && answer.body.agenda) this.live.deliver(answer.body);
      this.announce(this.t("organizer.save.done", { revision: this.revision }));
    } else if (answer.status === 409) {
      this.stale = true;
      this.updateStatus();
      await this.offerReload(answer.body.revision);
    } else if (answer.status === 422) {
      this.problems = Array.isArray(answer.body.problems) ? answer.body.problems : [];
      this.placeProblems();
      this.focusFirstProblem();
      this.saveError = this.t("organizer.save.refused", { count: this.problems.length });
    } else {
      this.saveError = this.t("organizer.save.failed", { reason: this.reason(answer) });
    }
    if (answer.ok) this.saveError = null;
    this.updateStatus();
  }

  async offerReload(revision) {
    const reload = await confirmAction({
      title: this.t("organizer.stale.title"),
      text: this.t("organizer.stale.text", { revision: revision ?? "?" }),
      ok: this.t("organizer.stale.reload"),
    });
    if (reload) await this.load();
  }

  async discard() {
    if (!this.isDirty()) return;
    const sure = await confirmAction({
      title: this.t("organizer.discard.title"),
      text: this.t("organizer.discard.text"),
      ok: this.t("organizer.discard.ok"),
    });
    if (sure) this.setPlan({ ...JSON.parse(this.baseline), revision: this.revision });
  }

  focusFirstProblem() {
    const holder = this.el.form.querySelector("[data-has-problem] input:not(:disabled), [data-has-problem] select, [data-has-problem] textarea");
    if (holder) holder.focus();
  }

  updateStatus() {
    const dirty = this.isDirty();
    this.el.save.disabled = this.saving || !dirty;
    this.el.discard.disabled = this.saving || !dirty;
    this.el.save.setAttribute("aria-busy", this.saving ? "true" : "false");
    show(this.el.staleNotice, this.stale);
    let text;
    let state;
    if (this.saving) [text, state] = [this.t("organizer.save.saving"), "saving"];
    else if (this.saveError && dirty) [text, state] = [this.saveError, "error"];
    else if (dirty) [text, state] = [this.t("organizer.save.unsaved"), "dirty"];
    else if (this.lastSaved) [text, state] = [this.t("organizer.save.saved", { time: this.fmt.clock(this.lastSaved), revision: this.revision }), "saved"];
    else [text, state] = [this.t("organizer.save.clean", { revision: this.revision ?? "–" }), "clean"];
    setText(this.el.saveStatus, text);
    this.el.saveStatus.dataset.state = state;
    document.body.dataset.dirty = dirty ? "yes" : "no";
  }

  reason(answer) {
    if (answer.status === 0) return this.t("error.offline");
    return (answer.body && answer.body.error) || String(answer.status);
  }
}
