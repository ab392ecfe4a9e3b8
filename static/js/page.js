// What every live page shares: its embedded data, translations, formats and connection.

import { show } from "./dom.js";
import { makeFormat } from "./format.js";
import { makeTranslator } from "./i18n.js";
import { everySecond, Live, readPageData, renderConnection } from "./live.js";
import { showRehearsal } from "./rehearsal.js";

/**
 * Start a live page: render(state, ctx) draws a state, status(status, ctx) reacts to the
 * connection. Returns ctx = {data, t, fmt, live}.
 */
export function startPage({ render, status = () => {}, consoleName = null }) {
  const data = readPageData();
  const t = makeTranslator(data.messages);
  const fmt = makeFormat(data.lang, data.state.event.timezone, t);
  const ctx = { data, t, fmt, live: null };
  const pill = document.getElementById("conn");
  ctx.live = new Live({
    page: data.page === "stage" ? "public" : data.page,
    pointId: data.pointId,
    consoleName,
    initialState: null,
    onState: (state) => {
      showRehearsal(state, t); // every page says "rehearsal" while one runs
      render(state, ctx);
    },
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

/**
 * Start a page that acts for its role (the MC console, a point's page): draw(ctx) redraws
 * the whole page after every state and every change of connection, the "offline" and
 * "refused" banners follow the connection, and tick(ctx) runs every second. Returns ctx.
 */
export function startActingPage({ draw, tick, banners, consoleName = null }) {
  const ctx = startPage({
    consoleName,
    render: (state, context) => {
      if (context.live) draw(context);
    },
    status: (status, context) => {
      show(banners.offline, status === "offline");
      show(banners.refused, status === "refused");
      if (context.live) draw(context);
    },
  });
  draw(ctx);
  document.body.dataset.ready = "yes";
  everySecond(ctx.live.clock, () => tick(ctx));
  return ctx;
}
