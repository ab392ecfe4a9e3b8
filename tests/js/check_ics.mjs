// Parse iCalendar files with Mozilla's ical.js (the parser Thunderbird uses) in strict mode
// and print what it understood as JSON, so Python tests can check it.
//
//   node tests/js/check_ics.mjs FILE.ics [FILE.ics ...]
//
// Exits 1 with a message on the first file ical.js refuses, or when a TZID has no
// VTIMEZONE in the file (ical.js would then silently treat the time as floating).
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

ICAL.design.strict = true;

function decodeEverything(component) {
  // Reading every value runs ical.js's strict value parsers on it.
  for (const property of component.getAllProperties()) {
    property.getValues();
  }
  for (const child of component.getAllSubcomponents()) {
    decodeEverything(child);
  }
}

function instant(time) {
  if (time.isDate) {
    return time.toString(); // YYYY-MM-DD
  }
  if (time.zone === undefined || time.zone.tzid === "floating") {
    throw new Error(`a date-time has no known time zone: ${time.toString()}`);
  }
  return time.toJSDate().toISOString();
}

function address(property) {
  if (property === null) {
    return null;
  }
  const params = {};
  for (const name of ["cn", "rsvp", "partstat", "role", "cutype"]) {
    const value = property.getParameter(name);
    if (value !== undefined) {
      params[name] = value;
    }
  }
  return { value: property.getFirstValue(), params };
}

function describeEvent(vevent) {
  const event = new ICAL.Event(vevent);
  const start = vevent.getFirstProperty("dtstart");
  return {
    uid: event.uid,
    sequence: event.sequence,
    summary: event.summary,
    description: event.description,
    location: event.location,
    status: vevent.getFirstPropertyValue("status"),
    url: vevent.getFirstPropertyValue("url"),
    dtstamp: instant(vevent.getFirstPropertyValue("dtstamp")),
    start: instant(event.startDate),
    end: instant(event.endDate),
    start_tzid: start.getParameter("tzid") ?? null,
    all_day: event.startDate.isDate,
    organizer: address(vevent.getFirstProperty("organizer")),
    attendees: vevent.getAllProperties("attendee").map(address),
    alarms: vevent.getAllSubcomponents("valarm").map((alarm) => ({
      action: alarm.getFirstPropertyValue("action"),
      trigger: alarm.getFirstPropertyValue("trigger").toString(),
    })),
  };
}

function check(path) {
  const text = readFileSync(path, "utf8");
  const root = new ICAL.Component(ICAL.parse(text));
  if (root.name !== "vcalendar") {
    throw new Error(`the top component is ${root.name}, not vcalendar`);
  }
  decodeEverything(root);
  return {
    path,
    method: root.getFirstPropertyValue("method"),
    prodid: root.getFirstPropertyValue("prodid"),
    version: root.getFirstPropertyValue("version"),
    timezones: root.getAllSubcomponents("vtimezone").map((tz) => tz.getFirstPropertyValue("tzid")),
    events: root.getAllSubcomponents("vevent").map(describeEvent),
  };
}

const results = [];
for (const path of process.argv.slice(2)) {
  try {
    results.push(check(path));
  } catch (error) {
    process.stderr.write(`${path}: ${error.message}\n`);
    process.exit(1);
  }
}
process.stdout.write(JSON.stringify({ files: results }));
