// Drawing a person's attention to something new: a short chime (made with the Web Audio
// API, so nothing is downloaded), a vibration on a phone that can, and a tab title that
// flashes until the person is back on the page. A mute switch silences the chime and the
// vibration (the title still flashes) and is remembered by the browser.
//
// Browsers let a page make sound or vibrate only after the person has touched it, so both
// wait for that first touch; the title flashes regardless. body[data-chimes] counts the
// chimes played (tests and the curious can read it).

import { setText } from "./dom.js";

const FLASH_MS = 1000;

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled: the switch still works for this visit
  }
}

export class Attention {
  /** button: the mute switch; storageKey: where its position is remembered. */
  constructor({ t, button, storageKey }) {
    this.t = t;
    this.button = button;
    this.storageKey = storageKey;
    this.muted = storage()?.getItem(storageKey) === "muted";
    this.audio = null;
    this.flashing = null;
    this.title = document.title;
    document.body.dataset.chimes = "0";
    button.addEventListener("click", () => this.setMuted(!this.muted));
    // The person is looking at the page again: the title may stop flashing.
    for (const name of ["pointerdown", "keydown"]) {
      document.addEventListener(name, () => this.seen(), { capture: true });
    }
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && document.hasFocus()) this.seen();
    });
    window.addEventListener("focus", () => this.seen());
    this.render();
  }

  setMuted(muted) {
    this.muted = muted;
    const store = storage();
    if (store) {
      if (muted) store.setItem(this.storageKey, "muted");
      else store.removeItem(this.storageKey);
    }
    this.render();
  }

  render() {
    this.button.setAttribute("aria-pressed", String(this.muted));
    this.button.dataset.muted = this.muted ? "yes" : "no";
    setText(this.button.querySelector(".mute-text"), this.t(this.muted ? "attention.muted" : "attention.sound_on"));
  }

  /** Something new arrived: chime, vibrate, flash the title. */
  cue() {
    if (!this.muted && this.touched()) {
      this.chime();
      if (typeof navigator.vibrate === "function") navigator.vibrate([180, 90, 180]);
    }
    this.flash();
  }

  touched() {
    const activation = navigator.userActivation;
    return !activation || activation.hasBeenActive;
  }

  chime() {
    const AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!AudioContext) return;
    if (!this.audio) this.audio = new AudioContext();
    const audio = this.audio;
    if (audio.state === "suspended") audio.resume().catch(() => {});
    const start = audio.currentTime + 0.02;
    // Two rising notes, a quarter of a second each: heard across a room, not alarming.
    [[880, 0], [1175, 0.22]].forEach(([frequency, delay]) => {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.type = "sine";
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + delay);
      gain.gain.exponentialRampToValueAtTime(0.35, start + delay + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + delay + 0.25);
      tone.connect(gain).connect(audio.destination);
      tone.start(start + delay);
      tone.stop(start + delay + 0.27);
    });
    document.body.dataset.chimes = String(Number(document.body.dataset.chimes || "0") + 1);
  }

  flash() {
    if (this.flashing) return;
    document.body.dataset.alerting = "yes";
    let on = false;
    this.flashing = setInterval(() => {
      on = !on;
      document.title = on ? `● ${this.t("attention.title")} · ${this.title}` : this.title;
    }, FLASH_MS);
    document.title = `● ${this.t("attention.title")} · ${this.title}`;
  }

  seen() {
    if (!this.flashing) return;
    clearInterval(this.flashing);
    this.flashing = null;
    document.title = this.title;
    document.body.dataset.alerting = "no";
  }
}
