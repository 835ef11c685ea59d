// A modal confirmation dialog: focus trapped inside, Escape closes it, focus returns to the
// control that opened it (or to `fallbackFocus` when that control is gone, e.g. a Cancel button
// that disappears once the execution is cancelled).
import { html, uniqueId } from './dom.js';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Opens the dialog and resolves when it closes. `confirm()` runs on the confirm button; it
 * returns null to close, or an error message to show while the dialog stays open.
 * `details` (optional) is filled in later by the caller through the returned `detailsSlot`.
 */
export function openConfirmDialog({ host, trigger, fallbackFocus, title, description, confirmLabel, dismissLabel, confirm, details = null }) {
  const titleId = uniqueId('dialog-title');
  const descriptionId = uniqueId('dialog-description');
  const dialog = document.createElement('dialog');
  dialog.className = 'dialog';
  dialog.setAttribute('aria-labelledby', titleId);
  dialog.setAttribute('aria-describedby', descriptionId);
  dialog.innerHTML = html`
    <h2 class="dialog-title" id="${titleId}">${title}</h2>
    <div class="dialog-description" id="${descriptionId}">${description}</div>
    ${details ?? ''}
    <p class="dialog-error" role="alert" hidden></p>
    <div class="dialog-actions">
      <button type="button" class="button" data-role="dismiss">${dismissLabel}</button>
      <button type="button" class="button button-primary" data-role="confirm">${confirmLabel}</button>
    </div>`.markup;
  const confirmButton = dialog.querySelector('[data-role="confirm"]');
  const dismissButton = dialog.querySelector('[data-role="dismiss"]');
  const errorLine = dialog.querySelector('.dialog-error');

  const trap = (event) => {
    if (event.key !== 'Tab') return;
    const focusable = [...dialog.querySelectorAll(FOCUSABLE)].filter((element) => !element.closest('[hidden]'));
    if (focusable.length === 0) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      first.focus();
    }
  };
  dialog.addEventListener('keydown', trap);

  const closed = new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      dialog.remove();
      const target = trigger?.isConnected && !trigger.closest('[hidden]') && !trigger.disabled ? trigger : fallbackFocus;
      target?.focus();
      resolve(dialog.returnValue === 'confirmed');
    }, { once: true });
  });

  dismissButton.addEventListener('click', () => dialog.close('dismissed'));
  confirmButton.addEventListener('click', async () => {
    confirmButton.disabled = true;
    dismissButton.disabled = true;
    dialog.setAttribute('aria-busy', 'true');
    errorLine.hidden = true;
    const failure = await confirm();
    dialog.removeAttribute('aria-busy');
    if (!dialog.open) return;
    if (failure) {
      errorLine.textContent = failure;
      errorLine.hidden = false;
      confirmButton.disabled = false;
      dismissButton.disabled = false;
      dismissButton.focus();
      return;
    }
    dialog.close('confirmed');
  });

  host.append(dialog);
  dialog.showModal();
  dismissButton.focus(); // the safe choice first: Enter right away changes nothing
  return { dialog, closed, detailsSlot: dialog.querySelector('[data-slot="details"]') };
}
