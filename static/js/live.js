// The page's live link to the server: Socket.IO connection, state updates and actions.
//
// The page starts from the state embedded in its HTML, then follows the server: it
// connects with `patches: true`, gets the whole `state` once and then a `patch` per change
// (RFC 6902, from the version it holds to the next). A patch that does not start from the
// version the page holds means one went missing: the page asks for the whole state again
// (`resync`). Actions are emitted with an acknowledgement; the change itself arrives as a
// patch (a refused action's answer carries the current state, which is shown at once).
//
// A page shows one event, the one it was rendered for. When the organizer makes another
// event active, the server sends `event_changed` {slug, title}: the page reloads whole (the
// public page and the stage then show the new event; the MC's and a point's page of the
// old event say their link belongs to it). A state of another event is never shown.

import { ServerClock, localNow, sampleNavigation } from "./clock.js";
import { applyPatch } from "./patch.js";

const ACK_TIMEOUT_MS = 10000;
// A resync that failed (no answer, or refused) is asked again after this long.
const RESYNC_RETRY_MS = 1000;
// Pages reload within this spread after a switch, so thousands of them do not all ask the
// server for their page in the same instant.
const RELOAD_SPREAD_MS = 1500;

/** Read the JSON the server embedded in the page. */
export function readPageData() {
  return JSON.parse(document.getElementById("page-data").textContent);
}

export class Live {
  /**
   * page: "organizer" | "mc" | "point" | "public"; onState(state) renders; onStatus(status) with
   * status "connecting" | "online" | "offline" | "refused".
   */
  constructor({ page, pointId = null, consoleName = null, initialState, onState, onStatus }) {
    this.page = page;
    this.pointId = pointId;
    this.consoleName = consoleName; // the MC console's own name, shown to other consoles
    this.onState = onState;
    this.onStatus = onStatus;
    this.clock = new ServerClock();
    this.state = null;
    this.status = "connecting";
    this.acceptAnyVersion = true;
    this.eventSlug = initialState ? initialState.event.slug : null;
    this.leaving = false;
    this.resyncing = false; // a whole state asked for and not yet answered
    this.pendingPatches = []; // patches that came while it was asked for
    if (initialState) this.start(initialState);
  }

  /** Show the state embedded in the page, before the connection is up. */
  start(initialState) {
    sampleNavigation(this.clock, initialState.server_time);
    this.deliver(initialState);
  }

  /** Open the Socket.IO connection. */
  connect() {
    const role =
      this.page === "mc" || this.page === "organizer"
        ? { page: this.page, ...(this.consoleName ? { console: this.consoleName } : {}) }
      : this.page === "point" ? { page: "point", point_id: this.pointId }
      : { page: "public" };
    const auth = { ...role, patches: true };
    const socket = window.io({
      auth,
      transports: ["websocket", "polling"],
      tryAllTransports: true,
    });
    this.socket = socket;
    socket.on("connect", () => {
      this.acceptAnyVersion = true; // the full state follows; take it even if older
      this.setStatus("online");
    });
    socket.on("disconnect", (reason) => {
      this.setStatus("offline");
      // The server closed us on purpose (e.g. it restarted): the client won't retry alone.
      if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000);
    });
    socket.on("event_changed", (event) => {
      if (event && event.slug !== this.eventSlug) this.moveToActiveEvent();
    });
    socket.on("connect_error", (error) => {
      const kind = error && error.data && error.data.kind;
      if (kind === "other_event") {
        // This page's link belongs to an event that is no longer active: the page, loaded
        // again, says which event is active now.
        this.moveToActiveEvent();
      } else if (kind === "unauthenticated" || kind === "forbidden") {
        this.setStatus("refused");
      } else {
        this.setStatus("offline");
        if (!socket.active) setTimeout(() => socket.connect(), 2000);
      }
    });
    socket.on("state", (state) => {
      this.clock.sample(state.server_time);
      this.deliver(state);
    });
    socket.on("patch", (message) => this.follow(message));
    return this;
  }

  /** Apply a patch to the state shown, or ask for the whole state if one went missing. */
  follow(message) {
    const shown = this.state;
    if (!shown || !message || !Array.isArray(message.ops)) return;
    if (this.resyncing) {
      // The answer may hold an older version than this patch (the server read its state
      // before this change was committed): keep it to apply after the answer.
      this.pendingPatches.push(message);
      return;
    }
    // A patch to a version the page holds, or one that came before a newer whole state.
    if (message.version <= shown.version && !this.acceptAnyVersion) return;
    if (message.from_version !== shown.version) {
      this.resync();
      return;
    }
    let patched;
    try {
      patched = applyPatch(shown, message.ops);
    } catch (error) {
      this.resync(); // the page's state is not the one the patch was made from
      return;
    }
    if (patched.version !== message.version) {
      this.resync();
      return;
    }
    this.clock.sample(patched.server_time);
    this.acceptAnyVersion = false;
    this.deliver(patched);
  }

  /** Ask the server for the whole state (once at a time) and show it. */
  resync() {
    const socket = this.socket;
    if (this.resyncing || !socket || !socket.connected) return;
    this.resyncing = true;
    this.pendingPatches = [];
    const sentAt = localNow();
    socket.timeout(ACK_TIMEOUT_MS).emit("resync", {}, (error, answer) => {
      this.resyncing = false;
      const pending = this.pendingPatches;
      this.pendingPatches = [];
      if (error || !answer || !answer.ok || !answer.state) {
        // Ask again a moment later: no patch may come to retry it (the show may be quiet).
        setTimeout(() => this.resync(), RESYNC_RETRY_MS);
        return;
      }
      this.clock.sample(answer.state.server_time, sentAt);
      this.acceptAnyVersion = true;
      this.deliver(answer.state);
      // Patches that came meanwhile: those past the answer's version follow on from it
      // (or, if one does not, ask again).
      for (const message of pending) this.follow(message);
    });
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.onStatus(status);
  }

  /** Load the page again for the event active now (once), a moment from now. */
  moveToActiveEvent() {
    if (this.leaving) return;
    this.leaving = true;
    if (this.socket) this.socket.disconnect();
    this.setStatus("connecting");
    setTimeout(() => window.location.reload(), Math.random() * RELOAD_SPREAD_MS);
  }

  /** Show a state unless a newer one is already shown (or it is another event's). */
  deliver(state) {
    if (this.leaving) return;
    if (this.eventSlug === null) this.eventSlug = state.event.slug;
    if (state.event.slug !== this.eventSlug) {
      this.moveToActiveEvent();
      return;
    }
    const shown = this.state;
    if (shown && state.version < shown.version && !this.acceptAnyVersion) return;
    this.acceptAnyVersion = false;
    this.state = state;
    this.onState(state);
  }

  /**
   * Emit an action and resolve with its answer: {ok: true, version} (the change follows as
   * a patch) or {ok: false, error, kind, state?}. Never rejects; "offline" and "timeout"
   * are kinds too.
   */
  act(name, payload = {}) {
    return new Promise((resolve) => {
      const socket = this.socket;
      if (!socket || !socket.connected) {
        resolve({ ok: false, kind: "offline", error: "not connected" });
        return;
      }
      const sentAt = localNow();
      socket.timeout(ACK_TIMEOUT_MS).emit(name, payload, (error, answer) => {
        if (error) {
          resolve({ ok: false, kind: "timeout", error: "no answer from the server" });
          return;
        }
        const result = answer && typeof answer === "object" ? answer : { ok: false, kind: "invalid" };
        if (result.state) {
          this.clock.sample(result.state.server_time, sentAt);
          this.deliver(result.state);
        }
        resolve(result);
      });
    });
  }

  /**
   * Measure the round trip to the server over the socket with the `clock` event; resolve
   * {rtt_ms, clock_offset_ms} (offset: the server's clock minus ours), or null.
   */
  measureLink() {
    return new Promise((resolve) => {
      const socket = this.socket;
      if (!socket || !socket.connected) {
        resolve(null);
        return;
      }
      const sentAt = localNow();
      socket.timeout(ACK_TIMEOUT_MS).emit("clock", {}, (error, answer) => {
        const receivedAt = localNow();
        if (error || !answer || !answer.ok || !answer.server_time) {
          resolve(null);
          return;
        }
        this.clock.sample(answer.server_time, sentAt, receivedAt);
        const server = Date.parse(answer.server_time);
        resolve({
          rtt_ms: Math.max(0, Math.round(receivedAt - sentAt)),
          clock_offset_ms: Math.round(server - (sentAt + receivedAt) / 2),
        });
      });
    });
  }
}

/** Return the sentence to show for a refused action, in the page's language. */
export function errorText(t, result) {
  const known = ["offline", "timeout", "stale", "conflict", "invalid", "forbidden",
    "unauthenticated", "not_found", "too_large", "rate_limited", "just_moved"];
  const kind = known.includes(result.kind) ? result.kind : "other";
  const summary = t(`error.${kind}`);
  // The server's own sentence says exactly what was wrong (English, technical): add it
  // for input errors, where it names the field.
  return kind === "invalid" && result.error ? `${summary} (${result.error})` : summary;
}

/** Keep a connection pill (#conn) in step with the live status. */
export function renderConnection(element, t, status) {
  element.dataset.state = status;
  element.querySelector(".conn-text").textContent = t(`conn.${status}`);
}

/** Call fn now and at every turn of the server clock's second. */
export function everySecond(clock, fn) {
  const tick = () => {
    fn();
    setTimeout(tick, 1000 - (clock.now() % 1000) + 5);
  };
  tick();
}
