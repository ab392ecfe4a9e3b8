// What every live page shares: its embedded data, translations, formats and connection.

import { makeFormat } from "./format.js";
import { makeTranslator } from "./i18n.js";
import { Live, readPageData, renderConnection } from "./live.js";

/**
 * Start a live page: render(state, ctx) draws a state, status(status, ctx) reacts to the
 * connection. Returns ctx = {data, t, fmt, live}.
 */
export function startPage({ render, status = () => {} }) {
  const data = readPageData();
  const t = makeTranslator(data.messages);
  const fmt = makeFormat(data.lang, data.state.event.timezone, t);
  const ctx = { data, t, fmt, live: null };
  const pill = document.getElementById("conn");
  ctx.live = new Live({
    page: data.page === "stage" ? "public" : data.page,
    pointId: data.pointId,
    initialState: null,
    onState: (state) => render(state, ctx),
    onStatus: (value) => {
      if (pill) renderConnection(pill, t, value);
      document.body.dataset.connection = value;
      status(value, ctx);
    },
  });
  ctx.live.start(data.state);
  ctx.live.connect();
  return ctx;
}
