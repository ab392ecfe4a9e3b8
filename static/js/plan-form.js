// The plan editor's fields: one labelled control per field of a record, bound to the draft
// plan (a change writes into the record at once), each with its hint and a slot for the
// problem the server's check finds there (data-path = the problem's path).

import { joinStart, knownZones, splitStart } from "./start-time.js";

let counter = 0;
const uid = (stem) => `${stem}-${(counter += 1)}`;

/** Return the value at a dotted key inside a record ("conference.url"). */
export function getIn(record, key) {
  return key.split(".").reduce((value, part) => (value && typeof value === "object" ? value[part] : undefined), record);
}

/** Set the value at a dotted key; undefined removes it, and an emptied parent goes too. */
export function setIn(record, key, value) {
  const parts = key.split(".");
  const last = parts.pop();
  const parents = [];
  let target = record;
  for (const part of parts) {
    if (value === undefined && (!target[part] || typeof target[part] !== "object")) return;
    if (!target[part] || typeof target[part] !== "object" || Array.isArray(target[part])) target[part] = {};
    parents.push([target, part]);
    target = target[part];
  }
  if (value === undefined) delete target[last];
  else target[last] = value;
  for (const [parent, part] of parents.reverse()) {
    if (Object.keys(parent[part]).length === 0) delete parent[part];
  }
}

/** Return an ASCII id ("phat-bieu-khai-mac") made from a Vietnamese or English text. */
export function slugOf(text) {
  return String(text || "")
    .replace(/[đĐ]/g, "d")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/g, "");
}

/** Return `stem`, or stem-2, stem-3... whichever no id in `taken` has. */
export function uniqueId(stem, taken) {
  const base = stem || "muc";
  if (!taken.has(base)) return base;
  for (let n = 2; ; n += 1) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

/**
 * Build the control of one field of a record. options: {spec, record, section, path, t, has,
 * locked, points(), onChange(key), onTitle(record, value) }. Returns the field's element.
 */
export function buildField(options) {
  const { spec, section, t, has } = options;
  const id = uid(`f-${section}`);
  const wrapper = document.createElement("div");
  wrapper.className = `org-field org-field-${spec.type}`;
  if (spec.wide) wrapper.classList.add("org-field-wide");
  if (spec.full) wrapper.classList.add("org-field-full");
  wrapper.dataset.key = spec.key;
  wrapper.dataset.path = `${options.path}.${spec.key}`;
  const labelKey = `organizer.field.${section}.${spec.key}`;
  const hintKey = `${labelKey}.hint`;
  const control = spec.type === "start" ? buildStart(options, id, wrapper) : buildControl(options, id);
  if (spec.type !== "start") {
    const label = document.createElement("label");
    label.className = "field-label";
    label.htmlFor = id;
    label.textContent = t(labelKey);
    if (spec.required) {
      // A star for the eye; the control's aria-required tells a screen reader.
      const mark = document.createElement("span");
      mark.className = "org-required";
      mark.setAttribute("aria-hidden", "true");
      mark.title = t("organizer.required");
      mark.textContent = " *";
      label.append(mark);
    }
    if (spec.type === "check") wrapper.append(control, label);
    else wrapper.append(label, control);
  } else {
    wrapper.append(control);
  }
  const described = [];
  if (has(hintKey)) {
    const hint = document.createElement("p");
    hint.className = "org-hint";
    hint.id = `${id}-hint`;
    hint.textContent = t(hintKey);
    wrapper.append(hint);
    described.push(hint.id);
  }
  const problem = document.createElement("p");
  problem.className = "org-problem";
  problem.id = `${id}-problem`;
  problem.hidden = true;
  wrapper.append(problem);
  wrapper.dataset.problemId = problem.id;
  for (const input of wrapper.querySelectorAll("input, select, textarea")) {
    if (described.length) input.setAttribute("aria-describedby", described.join(" "));
    if (options.locked) input.disabled = true;
  }
  return wrapper;
}

function changed(options, value) {
  setIn(options.record, options.spec.key, value);
  options.onChange(options.spec.key);
}

function textValue(raw, required) {
  if (raw.trim() === "") return required ? "" : undefined;
  return raw;
}

function buildControl(options, id) {
  const { spec, record } = options;
  const current = getIn(record, spec.key);
  let input;
  switch (spec.type) {
    case "long":
    case "lines": {
      input = document.createElement("textarea");
      input.rows = spec.type === "lines" ? 4 : 3;
      input.value = spec.type === "lines" ? (Array.isArray(current) ? current.join("\n") : "") : current ?? "";
      input.addEventListener("input", () => {
        if (spec.type === "long") return changed(options, textValue(input.value, spec.required));
        const lines = input.value.split("\n").map((line) => line.trim()).filter(Boolean);
        return changed(options, lines.length ? lines : undefined);
      });
      break;
    }
    case "number": {
      input = document.createElement("input");
      input.type = "number";
      input.inputMode = "numeric";
      input.step = "1";
      if (spec.min !== undefined) input.min = String(spec.min);
      if (spec.max !== undefined) input.max = String(spec.max);
      input.value = current ?? "";
      input.addEventListener("input", () => {
        const raw = input.value.trim();
        if (raw === "") return changed(options, spec.required ? null : undefined);
        return changed(options, Number(raw));
      });
      break;
    }
    case "check": {
      input = document.createElement("input");
      input.type = "checkbox";
      input.checked = current === true;
      input.addEventListener("change", () => changed(options, input.checked ? true : undefined));
      break;
    }
    case "select":
    case "point":
    case "deliverers": {
      input = document.createElement("select");
      fillSelect(input, options);
      input.addEventListener("change", () => {
        const value = input.value;
        if (spec.type === "deliverers" && value === "__listed__") return undefined; // unchanged
        return changed(options, value === "" ? undefined : value);
      });
      break;
    }
    default: {
      input = document.createElement("input");
      input.type = { email: "email", url: "url", date: "date" }[spec.type] || "text";
      if (spec.type === "id") {
        input.spellcheck = false;
        input.autocapitalize = "off";
        input.classList.add("org-id");
      }
      input.value = current ?? "";
      input.addEventListener("input", () => {
        if (spec.type === "id") options.onIdTyped?.(record);
        changed(options, textValue(input.value, spec.required));
      });
      if (spec.key === options.titleKey) {
        input.addEventListener("input", () => options.onTitle?.(record, input.value));
      }
    }
  }
  input.id = id;
  input.name = `${options.section}.${spec.key}`;
  if (spec.type === "email") input.autocomplete = "email";
  else if (input.tagName === "INPUT" && input.type !== "checkbox") input.autocomplete = "off";
  if (spec.required && spec.type !== "check") input.setAttribute("aria-required", "true");
  return input;
}

/** Fill a select's options: fixed words, the plan's points, or who must deliver. */
export function fillSelect(select, options) {
  const { spec, record, t } = options;
  const current = getIn(record, spec.key);
  const choices = [];
  if (spec.type === "select") {
    if (!spec.required) choices.push(["", t("organizer.choice.none")]);
    for (const value of spec.options) choices.push([value, t(`${spec.optionKey}.${value}`)]);
  } else if (spec.type === "point") {
    choices.push(["", t("organizer.choice.no_point")]);
    for (const point of options.points()) {
      if (point.id) choices.push([point.id, point.name ? `${point.name} (${point.id})` : point.id]);
    }
    if (current && !choices.some(([value]) => value === current)) choices.push([current, current]);
  } else {
    choices.push(["", t("organizer.deliverers.nobody")]);
    choices.push(["all_wards", t("organizer.deliverers.all_wards")]);
    choices.push(["all", t("organizer.deliverers.all")]);
    if (Array.isArray(current)) {
      choices.push(["__listed__", t("organizer.deliverers.listed", { count: current.length })]);
    }
  }
  const wanted = Array.isArray(current) ? "__listed__" : current ?? "";
  select.replaceChildren(
    ...choices.map(([value, text]) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = text;
      option.selected = value === wanted;
      return option;
    }),
  );
}

function buildStart(options, id, wrapper) {
  const { record, t } = options;
  const fieldset = document.createElement("fieldset");
  fieldset.className = "org-start";
  const legend = document.createElement("legend");
  legend.className = "field-label";
  legend.textContent = t("organizer.field.event.starts_at");
  fieldset.append(legend);
  const parts = splitStart(record.starts_at);
  const make = (type, value, labelKey, stem) => {
    const box = document.createElement("div");
    box.className = "org-start-part";
    const input = document.createElement("input");
    input.type = type;
    input.id = `${id}-${stem}`;
    input.value = value;
    input.autocomplete = "off";
    const label = document.createElement("label");
    label.htmlFor = input.id;
    label.textContent = t(labelKey);
    box.append(label, input);
    fieldset.append(box);
    return input;
  };
  const date = make("date", parts.date, "organizer.start.date", "date");
  const time = make("time", parts.time, "organizer.start.time", "time");
  const zone = make("text", record.timezone || "", "organizer.field.event.timezone", "zone");
  zone.spellcheck = false;
  const list = document.createElement("datalist");
  list.id = `${id}-zones`;
  for (const name of knownZones()) {
    const option = document.createElement("option");
    option.value = name;
    list.append(option);
  }
  zone.setAttribute("list", list.id);
  fieldset.append(list);
  // The zone's own problems (event.timezone) show under the zone.
  const zoneProblem = document.createElement("p");
  zoneProblem.className = "org-problem";
  zoneProblem.id = `${id}-zone-problem`;
  zoneProblem.hidden = true;
  zone.parentElement.append(zoneProblem);
  zone.parentElement.dataset.path = "event.timezone";
  zone.parentElement.dataset.problemId = zoneProblem.id;
  zone.parentElement.classList.add("org-field");
  const update = () => {
    const zoneName = zone.value.trim();
    record.timezone = zoneName;
    record.starts_at = joinStart(date.value, time.value, zoneName, record.starts_at);
    options.onChange("starts_at");
  };
  for (const input of [date, time, zone]) input.addEventListener("input", update);
  wrapper.dataset.path = "event.starts_at";
  return fieldset;
}

/** Show problems at their fields: [{path, message}] under root; return those placed nowhere. */
export function showProblems(root, problems) {
  for (const element of root.querySelectorAll(".org-problem")) {
    element.hidden = true;
    element.textContent = "";
  }
  for (const element of root.querySelectorAll("[aria-invalid]")) element.removeAttribute("aria-invalid");
  for (const element of root.querySelectorAll("[data-has-problem]")) delete element.dataset.hasProblem;
  const byPath = new Map();
  for (const element of root.querySelectorAll("[data-path]")) byPath.set(element.dataset.path, element);
  const unplaced = [];
  for (const problem of problems) {
    const holder = holderOf(byPath, problem.path || "");
    const slotElement = holder && holder.dataset.problemId && document.getElementById(holder.dataset.problemId);
    if (!slotElement) {
      unplaced.push(problem);
      continue;
    }
    slotElement.hidden = false;
    slotElement.textContent = slotElement.textContent ? `${slotElement.textContent} ${problem.message}` : problem.message;
    const input = holder.querySelector(":scope > input, :scope > select, :scope > textarea, :scope > fieldset input, :scope .org-start-part input");
    for (const control of holder.querySelectorAll(":scope > input, :scope > select, :scope > textarea")) {
      control.setAttribute("aria-invalid", "true");
      const ids = new Set((control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
      ids.add(slotElement.id);
      control.setAttribute("aria-describedby", [...ids].join(" "));
    }
    if (input) input.setAttribute("aria-invalid", "true");
    holder.dataset.hasProblem = "yes";
    const folded = holder.closest(".org-entry-body[hidden]");
    if (folded) {
      folded.hidden = false;
      const toggle = document.querySelector(`[aria-controls="${folded.id}"]`);
      if (toggle) toggle.setAttribute("aria-expanded", "true");
    }
    const entry = holder.closest("details.org-more");
    if (entry && !entry.open && holder.closest(".org-more-body")) entry.open = true;
  }
  return unplaced;
}

/** Return the element for a problem's path, or for the nearest enclosing path shown. */
function holderOf(byPath, path) {
  let rest = path;
  while (rest) {
    if (byPath.has(rest)) return byPath.get(rest);
    const cut = Math.max(rest.lastIndexOf("."), rest.lastIndexOf("["));
    if (cut <= 0) break;
    rest = rest.slice(0, cut);
  }
  return byPath.get(rest) || null;
}
