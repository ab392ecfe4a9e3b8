// Times and durations as the pages show them, always in the event's time zone.

const OTHER_DAY_SECONDS = 6 * 3600;

/** Return formatters for a language ("vi" or "en") and an IANA time zone. */
export function makeFormat(lang, timeZone, t) {
  const locale = lang === "vi" ? "vi-VN" : "en-GB";
  const hm = new Intl.DateTimeFormat(locale, { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const hms = new Intl.DateTimeFormat(locale, {
    timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  const day = new Intl.DateTimeFormat(locale, { timeZone, day: "2-digit", month: "2-digit", year: "numeric" });

  const toDate = (value) => (value instanceof Date ? value : new Date(value));

  return {
    /** "08:05" */
    time: (value) => (value == null ? "" : hm.format(toDate(value))),
    /** "08:05:09" */
    clock: (value) => (value == null ? "" : hms.format(toDate(value))),
    /** "01/10/2021" */
    date: (value) => (value == null ? "" : day.format(toDate(value))),
    /** "08:05", or "08:05 · 02/10/2021" when that is not the day of `reference`. */
    timeOn(value, reference) {
      if (value == null) return "";
      const same = day.format(toDate(value)) === day.format(toDate(reference));
      return same ? hm.format(toDate(value)) : `${hm.format(toDate(value))} · ${day.format(toDate(value))}`;
    },
    /** "4:05" or "1:02:03" for a number of seconds (sign dropped). */
    duration(seconds) {
      const total = Math.floor(Math.abs(seconds));
      const h = Math.floor(total / 3600);
      const m = Math.floor((total % 3600) / 60);
      const s = total % 60;
      const pad = (n) => String(n).padStart(2, "0");
      return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
    },
    /** "trễ 2:10" / "sớm 0:45" / "đúng giờ" for seconds over (+) or under (-) the plan. */
    overUnder(seconds) {
      if (seconds == null) return "";
      if (Math.abs(seconds) < 30) return t("timing.on_time");
      // Hours away from the plan: a rehearsal on another day, not a ceremony running late.
      if (Math.abs(seconds) >= OTHER_DAY_SECONDS) return t("timing.other_day");
      const amount = this.duration(seconds);
      return seconds > 0 ? t("timing.late", { amount }) : t("timing.early", { amount });
    },
  };
}
