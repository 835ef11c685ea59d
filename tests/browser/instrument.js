// Added to every test page before its scripts run (Playwright init script, outside the CSP):
// counts EventSources, fetches and timers, and lets a test pretend the tab is hidden.
(() => {
  const stats = { eventSources: [], fetches: 0, inFlight: 0, timeouts: new Set(), intervals: new Set() };
  window.__monitorStats = stats;

  const NativeEventSource = window.EventSource;
  window.EventSource = class extends NativeEventSource {
    constructor(...args) {
      super(...args);
      stats.eventSources.push(this);
    }
  };

  const nativeFetch = window.fetch;
  window.fetch = function instrumentedFetch(...args) {
    stats.fetches += 1;
    stats.inFlight += 1;
    return nativeFetch.apply(this, args).finally(() => {
      stats.inFlight -= 1;
    });
  };

  const { setTimeout: nativeSetTimeout, clearTimeout: nativeClearTimeout, setInterval: nativeSetInterval, clearInterval: nativeClearInterval } = window;
  window.setTimeout = function instrumentedSetTimeout(callback, delay, ...rest) {
    const id = nativeSetTimeout.call(this, (...args) => {
      stats.timeouts.delete(id);
      if (typeof callback === 'function') callback(...args);
    }, delay, ...rest);
    stats.timeouts.add(id);
    return id;
  };
  window.clearTimeout = function instrumentedClearTimeout(id) {
    stats.timeouts.delete(id);
    return nativeClearTimeout.call(this, id);
  };
  window.setInterval = function instrumentedSetInterval(...args) {
    const id = nativeSetInterval.apply(this, args);
    stats.intervals.add(id);
    return id;
  };
  window.clearInterval = function instrumentedClearInterval(id) {
    stats.intervals.delete(id);
    return nativeClearInterval.call(this, id);
  };

  window.__liveCounts = () => ({
    openEventSources: stats.eventSources.filter((source) => source.readyState !== 2).length,
    eventSources: stats.eventSources.length,
    fetches: stats.fetches,
    inFlight: stats.inFlight,
    timeouts: stats.timeouts.size,
    intervals: stats.intervals.size,
  });

  let hidden = false;
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  window.__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
  };
})();
