// The rehearsal banner: "TỔNG DUYỆT" / "REHEARSAL" on every live page while a rehearsal runs.

import { setText, show } from "./dom.js";

/** Show the banner (if the page has one) while state.run is a rehearsal, else hide it. */
export function showRehearsal(state, t) {
  const banner = document.getElementById("rehearsal-banner");
  if (!banner) return;
  const run = state.run;
  const rehearsing = Boolean(run && run.kind === "rehearsal");
  show(banner, rehearsing);
  document.body.dataset.run = run ? run.kind : "none";
  if (!rehearsing) return;
  banner.dataset.run = String(run.number);
  setText(document.getElementById("rehearsal-text"), t("rehearsal.banner_text", { n: run.number }));
}
