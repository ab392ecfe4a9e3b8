// The server's clock, as seen from this browser.
//
// Every state carries server_time. A state pushed by the server was stamped before it
// arrived, so (server_time - arrival) is a lower bound of the offset between the server's
// clock and ours; an answer to our own request was stamped after we sent it, so
// (server_time - sending) is an upper bound. The offset is the middle of the tightest
// bounds seen recently. Local time is performance.now(), which never jumps, so a ward
// laptop whose clock is wrong, or is corrected during the ceremony, changes nothing shown.

const KEEP_SAMPLES = 30;
const KEEP_MS = 10 * 60 * 1000;

function localNow() {
  return performance.timeOrigin + performance.now();
}

export class ServerClock {
  constructor() {
    this.samples = [];
    this.offset = 0;
    this.synced = false;
  }

  /** Learn from one server_time; sentAt is when our request left (null for a push). */
  sample(serverTimeIso, sentAt = null, receivedAt = localNow()) {
    const server = Date.parse(serverTimeIso);
    if (Number.isNaN(server)) return;
    const sample = {
      lower: server - receivedAt,
      upper: sentAt === null ? Infinity : server - sentAt,
      at: receivedAt,
    };
    this.samples = this.samples.filter((s) => receivedAt - s.at < KEEP_MS);
    this.samples.push(sample);
    if (this.samples.length > KEEP_SAMPLES) this.samples.shift();
    let lower = Math.max(...this.samples.map((s) => s.lower));
    let upper = Math.min(...this.samples.map((s) => s.upper));
    if (upper < lower) {
      // Bounds that contradict each other: the server's clock moved. Trust the newest.
      this.samples = [sample];
      lower = sample.lower;
      upper = sample.upper;
    }
    this.offset = Number.isFinite(upper) ? (lower + upper) / 2 : lower;
    this.synced = true;
  }

  /** Return the server's time now, in milliseconds since the epoch. */
  now() {
    return localNow() + this.offset;
  }
}

/** Return this browser's local time in the scale ServerClock.sample expects. */
export { localNow };

/** Learn from the state embedded in the page: it was stamped while the page was requested. */
export function sampleNavigation(clock, serverTimeIso) {
  const [navigation] = performance.getEntriesByType("navigation");
  if (navigation && navigation.responseStart > 0) {
    const origin = performance.timeOrigin;
    clock.sample(serverTimeIso, origin + navigation.requestStart, origin + navigation.responseStart);
  } else {
    clock.sample(serverTimeIso);
  }
}
