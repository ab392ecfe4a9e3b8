// The point page's deadlines: what this point must deliver, the days left (counted by the
// server in the event's zone), what it submitted, and a form to submit a document (or mark
// the deadline done) through the point's own API with its page cookie.

import { byId, cloneTemplate, setData, setText, show, slot, syncChildren } from "./dom.js";
import { makeTranslator } from "./i18n.js";
import { readPageData } from "./live.js";

const MAX_BYTES = 20 * 1024 * 1024;
const REFRESH_MS = 5 * 60_000; // days left change at midnight; a page stays open for days

const data = readPageData();
const t = makeTranslator(data.messages);
const pointId = data.pointId;
const zone = data.state.event.timezone;
const header = { "X-Runsheet-Page": `point:${pointId}` };
const el = {
  section: byId("deadlines"),
  list: byId("deadline-list"),
  error: byId("deadlines-error"),
};

function dayText(n) {
  if (n === 0) return t("deadlines.days.today");
  if (n === 1) return t("deadlines.days.tomorrow");
  if (n > 1) return t("deadlines.days.left", { n });
  if (n === -1) return t("deadlines.days.over_one");
  return t("deadlines.days.over", { n: -n });
}

function dateText(iso) {
  const [y, m, d] = iso.split("-");
  return `${d}/${m}/${y}`;
}

function momentText(iso) {
  return new Intl.DateTimeFormat(data.lang === "vi" ? "vi-VN" : "en-GB", {
    timeZone: zone,
    hour: "2-digit",
    minute: "2-digit",
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
  }).format(new Date(iso));
}

function sizeText(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

function describe(submission, element) {
  element.replaceChildren();
  if (submission.kind === "document") {
    const link = document.createElement("a");
    link.href = `/points/${encodeURIComponent(pointId)}/documents/${submission.id}`;
    link.className = "user-text";
    link.textContent = submission.file_name;
    element.append(link, ` (${sizeText(submission.size)}) · ${momentText(submission.submitted_at)}`);
  } else {
    element.append(`${t("deadlines.kind.done")} · ${momentText(submission.submitted_at)}`);
  }
}

function errorMessage(body, status) {
  const kind = body && body.kind;
  if (kind === "too_large" || status === 413) return t("deadlines.error.too_large");
  if (kind === "unsupported_media_type") return t("deadlines.error.unsupported_media_type");
  if (kind === "missing_document") return t("deadlines.error.missing_document");
  return t("deadlines.error.failed", { error: (body && body.error) || String(status) });
}

async function send(deadline, element, body) {
  const form = slot(element, "form");
  const error = slot(element, "error");
  const sent = slot(element, "sent");
  const buttons = [slot(element, "submit"), slot(element, "done")];
  show(error, false);
  show(sent, true);
  setText(sent, t("deadlines.point.sending"));
  buttons.forEach((b) => (b.disabled = true));
  try {
    const options = { method: "POST", credentials: "same-origin", headers: { ...header }, body };
    if (!(body instanceof FormData)) options.headers["Content-Type"] = "application/json";
    const url = `/api/v1/points/${encodeURIComponent(pointId)}/deadlines/${encodeURIComponent(deadline.id)}`;
    const response = await fetch(url, options);
    const answer = await response.json().catch(() => null);
    if (!response.ok) throw Object.assign(new Error("refused"), { answer, status: response.status });
    form.reset();
    setText(sent, t("deadlines.point.sent", { when: momentText(answer.submitted_at) }));
    await load();
  } catch (failure) {
    show(sent, false);
    show(error, true);
    setText(error, failure.answer !== undefined ? errorMessage(failure.answer, failure.status) : t("deadlines.error.failed", { error: failure.message }));
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

function create(deadline) {
  const element = cloneTemplate("tpl-deadline");
  const form = slot(element, "form");
  const error = slot(element, "error");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = slot(element, "file").files[0];
    if (!file) return fail(error, t("deadlines.point.no_file"), slot(element, "file"));
    if (file.size > MAX_BYTES) return fail(error, t("deadlines.error.too_large"), slot(element, "file"));
    const body = new FormData();
    body.append("file", file, file.name);
    body.append("note", slot(element, "note").value);
    send(element.deadline, element, body);
  });
  slot(element, "done").addEventListener("click", () => {
    const note = slot(element, "note").value.trim();
    if (!note) return fail(error, t("deadlines.point.done_needs_note"), slot(element, "note"));
    send(element.deadline, element, JSON.stringify({ done: true, note }));
  });
  return element;
}

function fail(error, message, focus) {
  show(error, true);
  setText(error, message);
  focus.focus();
}

function update(element, deadline) {
  element.deadline = deadline;
  setData(element, "status", deadline.status);
  setText(slot(element, "title"), deadline.title);
  const status = slot(element, "status");
  setData(status, "status", deadline.status);
  setText(status, t(`deadlines.status.${deadline.status}`));
  setText(slot(element, "due"), t("deadlines.due_on", { date: dateText(deadline.due_on) }));
  const days = slot(element, "days");
  // "3 days overdue" is a warning only while nothing was delivered
  const owed = deadline.status === "pending" || deadline.status === "missing";
  setData(days, "over", owed && deadline.days_left < 0 ? "yes" : "no");
  setText(days, dayText(deadline.days_left));
  setText(slot(element, "description"), deadline.description);
  const [current, ...earlier] = deadline.submissions;
  const currentLine = slot(element, "current");
  show(currentLine, Boolean(current));
  if (current) {
    describe(current, currentLine);
    if (current.note) currentLine.append(document.createElement("br"), current.note);
  }
  show(slot(element, "history-wrap"), earlier.length > 0);
  setText(slot(element, "history-title"), `${t("deadlines.point.history")} (${deadline.submissions.length})`);
  syncChildren(
    slot(element, "history"),
    earlier,
    (s) => s.id,
    () => cloneTemplate("tpl-submission"),
    (row, s) => {
      describe(s, slot(row, "what"));
      setText(slot(row, "note"), s.note);
    },
  );
  const submitLabel = t(current ? "deadlines.point.replace" : "deadlines.point.submit");
  setText(slot(element, "submit"), submitLabel);
  setText(slot(element, "form-title"), submitLabel);
  // Once something is delivered the form folds away (it opens again for a replacement).
  const wrap = slot(element, "form-wrap");
  if (element.delivered !== Boolean(current)) {
    element.delivered = Boolean(current);
    wrap.open = !current;
  }
}

async function load() {
  try {
    const response = await fetch(`/api/v1/points/${encodeURIComponent(pointId)}/deadlines`, {
      credentials: "same-origin",
      headers: header,
    });
    if (!response.ok) throw new Error(String(response.status));
    const body = await response.json();
    show(el.error, false);
    show(el.section, body.deadlines.length > 0);
    syncChildren(el.list, body.deadlines, (d) => d.id, create, update);
  } catch {
    if (el.list.children.length) return; // keep what is shown; the next refresh retries
    show(el.section, true);
    show(el.error, true);
    setText(el.error, t("deadlines.point.load_failed"));
  }
}

load();
setInterval(load, REFRESH_MS);
