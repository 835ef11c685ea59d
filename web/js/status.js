// Status words and icons: the word is always shown, the icon's shape repeats it, colour only adds.
// Icons are CSS masks (web/icons/*.svg): one empty span per badge keeps 1,000 rows light.
import { html } from './dom.js';

export const STATUSES = {
  pending: { label: 'Pending' },
  running: { label: 'Running' },
  completed: { label: 'Completed' },
  failed: { label: 'Failed' },
  cancelled: { label: 'Cancelled' },
  skipped: { label: 'Skipped' },
};

export const EXECUTION_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'];
export const TERMINAL_STATUSES = new Set(['completed', 'failed', 'cancelled']);

export function isTerminal(status) {
  return TERMINAL_STATUSES.has(status);
}

export function statusLabel(status) {
  return STATUSES[status]?.label ?? String(status ?? 'Unknown');
}

/** An icon and the status in words; `data-status` picks the icon and the colour. */
export function statusBadge(status) {
  return html`<span class="badge" data-status="${status}"><span class="icon" aria-hidden="true"></span>${statusLabel(status)}</span>`;
}
