// What the plan editor shows of each section of the plan: one entry per field, keyed like
// the plan file (docs/plan-format.md). A key may be a dotted path inside the record
// ("conference.url"); "more" fields sit in the entry's folded details. Labels and hints
// come from the catalog: organizer.field.<section>.<key> and ....hint.

export const EVENT_KINDS = ["online", "hybrid", "in-person"];
export const POINT_KINDS = ["room", "ward"];
export const CONFERENCE_KEYS = ["platform", "url", "meeting_id", "passcode"];

export const EVENT_FIELDS = [
  { key: "title", type: "text", required: true, full: true },
  { key: "theme", type: "text", full: true },
  { key: "organizer", type: "text" },
  { key: "standing_body", type: "text" },
  { key: "reference", type: "text" },
  { key: "organizer_email", type: "email" },
  { key: "form", type: "select", options: EVENT_KINDS, optionKey: "organizer.form" },
  { key: "starts_at", type: "start" }, // date, time and zone together (start-time.js)
  { key: "reminder_minutes", type: "number", min: 0 },
  { key: "warn_minutes", type: "number", min: 0, max: 60 },
  { key: "description", type: "long", full: true },
  ...CONFERENCE_KEYS.map((key) => ({ key: `conference.${key}`, type: key === "url" ? "url" : "text", group: "conference" })),
  { key: "livestream_url", type: "url", group: "conference" },
];

export const POINT_FIELDS = [
  { key: "name", type: "text", required: true, wide: true },
  { key: "kind", type: "select", options: POINT_KINDS, optionKey: "organizer.kind", required: true },
  { key: "id", type: "id", required: true, follows: "name" },
  { key: "address", type: "text", more: true, wide: true },
  { key: "group", type: "text", more: true },
  { key: "attendees", type: "lines", more: true, full: true },
  { key: "contact_name", type: "text", more: true },
  { key: "contact_email", type: "email", more: true },
  ...CONFERENCE_KEYS.map((key) => ({ key: `conference.${key}`, type: key === "url" ? "url" : "text", more: true })),
];

export const AGENDA_FIELDS = [
  { key: "title", type: "text", required: true, wide: true },
  { key: "speaker", type: "text" },
  { key: "point", type: "point" },
  { key: "planned_minutes", type: "number", required: true, min: 1, max: 1440 },
  { key: "warn_minutes", type: "number", min: 0, max: 60 },
  { key: "prepared_by", type: "text", more: true },
  { key: "id", type: "id", required: true, follows: "title", more: true },
  { key: "minutes_estimated", type: "check", more: true },
  { key: "notes", type: "long", more: true, full: true },
];

export const ACTIVITY_FIELDS = [
  { key: "title", type: "text", required: true, wide: true },
  { key: "starts_on", type: "date", required: true },
  { key: "ends_on", type: "date" },
  { key: "id", type: "id", required: true, follows: "title", more: true },
  { key: "description", type: "long", more: true, full: true },
];

export const DEADLINE_FIELDS = [
  { key: "title", type: "text", required: true, wide: true },
  { key: "due_on", type: "date", required: true },
  { key: "responsible", type: "text" },
  { key: "points", type: "deliverers" },
  { key: "id", type: "id", required: true, follows: "title", more: true },
  { key: "description", type: "long", more: true, full: true },
];

/** The list sections of the plan: the key in the file, its fields, a new entry. */
export const LISTS = {
  points: { fields: POINT_FIELDS, blank: () => ({ id: "", name: "", kind: "ward" }), title: "name" },
  agenda: { fields: AGENDA_FIELDS, blank: () => ({ id: "", title: "", planned_minutes: 5 }), title: "title" },
  activities: { fields: ACTIVITY_FIELDS, blank: () => ({ id: "", title: "", starts_on: "" }), title: "title" },
  deadlines: { fields: DEADLINE_FIELDS, blank: () => ({ id: "", title: "", due_on: "" }), title: "title" },
};
