// The event's start as the plan writes it (ISO 8601 with the UTC offset) and as people
// enter it (a date, a time and an IANA zone): the offset is the zone's on that day.

/** Split "2021-10-01T08:00:00+07:00" into {date: "2021-10-01", time: "08:00"}. */
export function splitStart(value) {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(typeof value === "string" ? value : "");
  return match ? { date: match[1], time: match[2] } : { date: "", time: "" };
}

/** Return the zone's UTC offset in minutes at an instant, or null for an unknown zone. */
export function offsetMinutes(zone, instantMs) {
  let parts;
  try {
    parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" }).formatToParts(new Date(instantMs));
  } catch {
    return null;
  }
  const name = (parts.find((part) => part.type === "timeZoneName") || {}).value || "";
  const match = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  if (!match) return name === "GMT" ? 0 : null;
  const minutes = Number(match[2]) * 60 + Number(match[3] || 0);
  return match[1] === "-" ? -minutes : minutes;
}

function formatOffset(minutes) {
  const sign = minutes < 0 ? "-" : "+";
  const whole = Math.abs(minutes);
  const pad = (n) => String(n).padStart(2, "0");
  return `${sign}${pad(Math.floor(whole / 60))}:${pad(whole % 60)}`;
}

/**
 * Join a date, a time and a zone into the plan's starts_at; return "" when the date or the
 * time is missing (the check then says so), and keep `previous`'s offset for an unknown zone
 * (the check names the zone).
 */
export function joinStart(date, time, zone, previous = "") {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !/^\d{2}:\d{2}$/.test(time)) return "";
  const [y, mo, d] = date.split("-").map(Number);
  const [h, mi] = time.split(":").map(Number);
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  let offset = offsetMinutes(zone, wall);
  if (offset === null) {
    const kept = /([+-]\d{2}:\d{2})$/.exec(previous || "");
    return `${date}T${time}:00${kept ? kept[1] : "+00:00"}`;
  }
  // The offset at the wall time read as UTC is close; one more step lands on the real one
  // (it differs only within hours of a daylight-saving change).
  offset = offsetMinutes(zone, wall - offset * 60_000) ?? offset;
  return `${date}T${time}:00${formatOffset(offset)}`;
}

/** Return the zones this browser knows, for the zone field's suggestions. */
export function knownZones() {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["Asia/Ho_Chi_Minh", "Asia/Bangkok", "UTC"];
  }
}
