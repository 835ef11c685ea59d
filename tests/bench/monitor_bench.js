// Init script for the monitor benchmark (runs before the app): a scripted EventSource that
// delivers window.__benchExecution as the snapshot, and a probe that records when the first
// view of all steps has been rendered, laid out and handed to the compositor.
(() => {
  const bench = { firstView: null, allRows: null, snapshotAt: null, sources: [] };
  window.__bench = bench;
  sessionStorage.setItem('execmon.accessToken', 'bench.token.unused');

  class ScriptedEventSource extends EventTarget {
    constructor(url) {
      super();
      this.url = url;
      this.readyState = 0;
      this.CLOSED = 2;
      bench.sources.push(this);
      setTimeout(() => {
        this.readyState = 1;
        this.dispatchEvent(new Event('open'));
        bench.snapshotAt = performance.now();
        this.dispatchEvent(new MessageEvent('snapshot', { data: window.__benchSnapshotJson }));
      }, 0);
    }
    close() { this.readyState = 2; }
  }
  window.EventSource = ScriptedEventSource;

  // First view: the first rows of the timeline painted. All rows: every step in the DOM.
  const painted = (key) => requestAnimationFrame(() => setTimeout(() => { bench[key] = performance.now(); }, 0));
  new MutationObserver((_records, observer) => {
    const steps = document.querySelectorAll('execution-monitor li.step').length;
    if (steps > 0 && bench.firstView === null && !bench.firstViewPending) {
      bench.firstViewPending = true;
      document.body.getBoundingClientRect(); // style and layout now, inside the measured span
      painted('firstView');
    }
    if (steps >= window.__benchStepCount) {
      observer.disconnect();
      painted('allRows');
    }
  }).observe(document, { childList: true, subtree: true });

  /** Applies one update through the real SSE path and returns its main-thread time (ms). */
  window.__benchUpdate = (update) => {
    const start = performance.now();
    bench.sources.at(-1).dispatchEvent(new MessageEvent('update', { data: JSON.stringify(update) }));
    document.body.getBoundingClientRect(); // include the style and layout the patch causes
    return performance.now() - start;
  };
})();
