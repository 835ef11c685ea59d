// Status words and icons: the word is always shown, the icon's shape repeats it, colour only adds.
import { html, raw } from './dom.js';

const ICONS = {
  clock: '<circle cx="8" cy="8" r="6.25" fill="none" stroke="currentColor" stroke-width="1.5"/><path d="M8 4.5V8l2.5 1.5" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round"/>',
  spinner: '<circle cx="8" cy="8" r="6.25" fill="none" stroke="currentColor" stroke-width="1.5" stroke-opacity=".3"/><path d="M8 1.75A6.25 6.25 0 0 1 14.25 8" fill="none" stroke="currentColor" stroke-width="1.75" stroke-linecap="round"/>',
  check: '<circle cx="8" cy="8" r="7" fill="currentColor"/><path d="m4.75 8.25 2.25 2.25 4.25-4.5" fill="none" stroke="Canvas" stroke-width="1.75" stroke-linecap="round" stroke-linejoin="round"/>',
  cross: '<circle cx="8" cy="8" r="7" fill="currentColor"/><path d="m5.5 5.5 5 5m0-5-5 5" fill="none" stroke="Canvas" stroke-width="1.75" stroke-linecap="round"/>',
  slash: '<circle cx="8" cy="8" r="6.25" fill="none" stroke="currentColor" stroke-width="1.5"/><path d="m3.75 12.25 8.5-8.5" stroke="currentColor" stroke-width="1.5"/>',
  skip: '<path d="M3 4l5 4-5 4zM9 4l5 4-5 4z" fill="currentColor"/>',
};

export const STATUSES = {
  pending: { label: 'Pending', icon: 'clock' },
  running: { label: 'Running', icon: 'spinner' },
  completed: { label: 'Completed', icon: 'check' },
  failed: { label: 'Failed', icon: 'cross' },
  cancelled: { label: 'Cancelled', icon: 'slash' },
  skipped: { label: 'Skipped', icon: 'skip' },
};

export const EXECUTION_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'];
export const TERMINAL_STATUSES = new Set(['completed', 'failed', 'cancelled']);

export function isTerminal(status) {
  return TERMINAL_STATUSES.has(status);
}

export function statusLabel(status) {
  return STATUSES[status]?.label ?? String(status ?? 'Unknown');
}

/** An icon and the status in words; `data-status` drives the colour. */
export function statusBadge(status) {
  const icon = ICONS[STATUSES[status]?.icon ?? 'clock'];
  return html`<span class="badge" data-status="${status}"><svg class="icon" viewBox="0 0 16 16" aria-hidden="true" focusable="false">${raw(icon)}</svg><span class="badge-label">${statusLabel(status)}</span></span>`;
}
