// The installation's events: list them, create one (blank, from the template, or as a copy
// of another), make one the active event (every open page moves to it) and archive one.

import { confirmAction } from "./confirm.js";
import { byId, setText, show } from "./dom.js";
import { callApi } from "./organizer-api.js";

export function startEvents({ t, fmt, editor }) {
  const list = byId("events-list");
  const status = byId("events-status");
  const form = byId("event-create");
  const from = byId("event-from");
  const source = byId("event-source");
  const sourceField = byId("event-source-field");
  let events = [];

  const say = (text, state) => {
    setText(status, text);
    status.dataset.state = state;
  };

  async function refresh() {
    const answer = await callApi("GET", "/api/v1/events");
    if (!answer.ok) {
      say(t("organizer.events.unavailable", { reason: editor.reason(answer) }), "error");
      return;
    }
    events = Array.isArray(answer.body.events) ? answer.body.events : [];
    if (status.dataset.state === "error") say("", "ok");
    draw();
  }

  function draw() {
    list.replaceChildren(...events.map(row));
    const current = source.value;
    source.replaceChildren(
      ...events.map((event) => {
        const option = document.createElement("option");
        option.value = event.slug;
        option.textContent = `${event.title || event.slug} (${event.slug})`;
        option.selected = event.slug === current;
        return option;
      }),
    );
  }

  function row(event) {
    const item = document.createElement("li");
    item.className = "org-event";
    item.dataset.key = event.slug;
    item.dataset.active = event.active ? "yes" : "no";
    item.dataset.archived = event.archived ? "yes" : "no";
    const title = document.createElement("span");
    title.className = "org-event-title user-text";
    title.textContent = event.title || event.slug;
    const meta = document.createElement("span");
    meta.className = "org-event-meta";
    const when = event.starts_at ? `${fmt.date(event.starts_at)} ${fmt.time(event.starts_at)}` : "";
    meta.textContent = [event.slug, when].filter(Boolean).join(" · ");
    const badges = document.createElement("span");
    badges.className = "org-event-badges";
    if (event.active) badges.append(badge(t("organizer.events.active"), "active"));
    if (event.archived) badges.append(badge(t("organizer.events.archived"), "archived"));
    const tools = document.createElement("span");
    tools.className = "org-event-tools";
    if (!event.active && !event.archived) {
      tools.append(button(t("organizer.events.activate"), "button-secondary", () => activate(event), t("organizer.events.activate_label", { title: event.title || event.slug })));
    }
    if (!event.active && !event.archived) {
      tools.append(button(t("organizer.events.archive"), "button-quiet", () => archive(event), t("organizer.events.archive_label", { title: event.title || event.slug })));
    }
    if (event.archived) {
      tools.append(button(t("organizer.events.restore"), "button-quiet", () => restore(event), t("organizer.events.restore_label", { title: event.title || event.slug })));
    }
    item.append(title, badges, meta, tools);
    return item;
  }

  async function activate(event) {
    const title = event.title || event.slug;
    const sure = await confirmAction({
      title: t("organizer.events.activate_title", { title }),
      text: t("organizer.events.activate_text", { title }) + (editor.isDirty() ? ` ${t("organizer.events.unsaved")}` : ""),
      ok: t("organizer.events.activate"),
    });
    if (!sure) return;
    const answer = await callApi("POST", `/api/v1/events/${encodeURIComponent(event.slug)}/activate`);
    if (!answer.ok) {
      say(t("organizer.events.failed", { reason: editor.reason(answer) }), "error");
      return;
    }
    editor.baseline = JSON.stringify(editor.payload()); // the old event's draft is left behind on purpose
    window.location.reload();
  }

  async function archive(event) {
    const title = event.title || event.slug;
    const sure = await confirmAction({
      title: t("organizer.events.archive_title", { title }),
      text: t("organizer.events.archive_text", { title }),
      ok: t("organizer.events.archive"),
    });
    if (!sure) return;
    const answer = await callApi("POST", `/api/v1/events/${encodeURIComponent(event.slug)}/archive`);
    if (!answer.ok) say(t("organizer.events.failed", { reason: editor.reason(answer) }), "error");
    else say(t("organizer.events.archived_done", { title }), "ok");
    await refresh();
  }

  async function restore(event) {
    const title = event.title || event.slug;
    const answer = await callApi("POST", `/api/v1/events/${encodeURIComponent(event.slug)}/restore`);
    if (!answer.ok) say(t("organizer.events.failed", { reason: editor.reason(answer) }), "error");
    else say(t("organizer.events.restored", { title }), "ok");
    await refresh();
  }

  from.addEventListener("change", () => show(sourceField, from.value === "duplicate"));
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const body = { slug: byId("event-slug").value.trim(), from: from.value };
    const title = byId("event-title").value.trim();
    if (title) body.title = title;
    if (from.value === "duplicate") body.source = source.value;
    const answer = await callApi("POST", "/api/v1/events", { json: body });
    if (!answer.ok) {
      say(t("organizer.events.create_failed", { reason: editor.reason(answer) }), "error");
      const field = answer.body.field && form.querySelector(`[name="${answer.body.field}"]`);
      if (field) field.focus();
      return;
    }
    form.reset();
    show(sourceField, false);
    say(t("organizer.events.created", { title: answer.body.title || body.slug }), "ok");
    await refresh();
  });

  refresh();
  return { refresh };
}

function badge(text, kind) {
  const element = document.createElement("span");
  element.className = "org-badge";
  element.dataset.kind = kind;
  element.textContent = text;
  return element;
}

function button(text, kind, onClick, label) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = `button button-small ${kind}`;
  element.textContent = text;
  if (label) element.setAttribute("aria-label", label);
  element.addEventListener("click", onClick);
  return element;
}
