// Durations, clock times and progress text, formatted once for every view.

const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** 850 -> "850 ms", 12_300 -> "12.3 s", 192_000 -> "3 min 12 s", 3_900_000 -> "1 h 5 min". */
export function formatDuration(milliseconds) {
  if (milliseconds === null || milliseconds === undefined || Number.isNaN(milliseconds)) return '';
  const ms = Math.max(0, Math.round(milliseconds));
  if (ms < 1000) return `${ms} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

/** Whole seconds only: for counters that tick every second (elapsed, remaining). */
export function formatClockDuration(milliseconds) {
  if (milliseconds === null || milliseconds === undefined) return '';
  const seconds = Math.floor(Math.max(0, milliseconds) / 1000);
  return seconds < 60 ? `${seconds} s` : formatDuration(seconds * 1000);
}

export function formatTime(iso) {
  return iso ? TIME.format(new Date(iso)) : '';
}

export function formatDateTime(iso) {
  return iso ? DATE_TIME.format(new Date(iso)) : '';
}

/** "2 / 5 steps (40%)" */
export function progressText(progress) {
  if (!progress) return '';
  return `${progress.completedSteps} / ${progress.totalSteps} steps (${progress.percentage}%)`;
}

/** Milliseconds between an ISO time and now (or the end time), never negative. */
export function elapsedSince(startIso, endIso = null, now = Date.now()) {
  if (!startIso) return null;
  const end = endIso ? Date.parse(endIso) : now;
  return Math.max(0, end - Date.parse(startIso));
}
