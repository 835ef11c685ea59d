// A polling loop that never overlaps itself, pauses while the tab is hidden and leaves nothing
// behind when stopped (one timer at most, the request in flight aborted).
import { isAbort } from './api.js';

export function pageIsHidden() {
  return typeof document !== 'undefined' && document.visibilityState === 'hidden';
}

export class Poller {
  /**
   * task(signal) runs once per tick; the next tick is scheduled `intervalMs` after it settles,
   * so a slow answer delays the next poll instead of piling requests up.
   */
  constructor(task, intervalMs, { onError = () => {} } = {}) {
    this.task = task;
    this.intervalMs = intervalMs;
    this.onError = onError;
    this.timer = null;
    this.inFlight = null;
    this.running = false;
    this.onVisibility = () => (pageIsHidden() ? this.pause() : this.resume());
  }

  start({ immediately = true } = {}) {
    if (this.running) return;
    this.running = true;
    document.addEventListener('visibilitychange', this.onVisibility);
    if (!pageIsHidden()) this.schedule(immediately ? 0 : this.intervalMs);
  }

  stop() {
    this.running = false;
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.pause();
  }

  /** Run now (a manual refresh), then keep the cadence from there. */
  poke() {
    if (this.running && !pageIsHidden()) this.schedule(0);
  }

  pause() {
    clearTimeout(this.timer);
    this.timer = null;
    this.inFlight?.abort();
    this.inFlight = null;
  }

  resume() {
    if (this.running && !this.timer && !this.inFlight) this.schedule(0);
  }

  schedule(delay) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), delay);
  }

  async tick() {
    this.timer = null;
    if (this.inFlight) return; // a poke while a poll is in flight: that poll's answer will do
    const controller = new AbortController();
    this.inFlight = controller;
    try {
      await this.task(controller.signal);
    } catch (error) {
      if (!isAbort(error) && !controller.signal.aborted) this.onError(error);
    } finally {
      if (this.inFlight === controller) this.inFlight = null;
    }
    if (this.running && !controller.signal.aborted && !pageIsHidden()) this.schedule(this.intervalMs);
  }
}
