// <execution-monitor workspace-id workflow-id execution-id [enable-sse] [enable-polling]
//                    [polling-interval] [api-base-url]>: the seed's ExecutionMonitor.
//
// Events (bubbling): `complete` (the execution ended completed or failed, seen live),
// `cancel` (it was cancelled), `error` (a read or command failed; detail.error), and
// `retry` (Retry execution started a new one; detail.execution; cancelable: by default the
// monitor shows a link to it). `element.watch` is the underlying watchExecution() object.
//
// Rendering stays cheap for 1,000 steps: the timeline is built once, an update patches only
// the rows whose content changed, a step's details are rendered when it is opened, and rows
// off screen skip layout and paint (content-visibility).
import { paths } from './api.js';
import { openConfirmDialog } from './dialog.js';
import { html, raw, setText, uniqueId } from './dom.js';
import { retryableSteps } from './execution-state.js';
import { elapsedSince, formatClockDuration, formatDateTime, formatDuration, formatTime, progressText } from './format.js';
import { loadRetryPlan, renderRetryPlan } from './retry-plan.js';
import { isTerminal, statusBadge, statusLabel } from './status.js';
import { watchExecution } from './watch.js';

const OUTPUT_PREVIEW_CHARS = 20_000;
const FIRST_ROWS = 60; // more than a tall screen shows
const ROWS_PER_TASK = 150;
const TICK_MS = 1000;

function booleanAttribute(element, name, fallback) {
  if (!element.hasAttribute(name)) return fallback;
  return element.getAttribute(name) !== 'false';
}

export function executionHref(workspaceId, workflowId, executionId) {
  const enc = encodeURIComponent;
  return `/workspaces/${enc(workspaceId)}/workflows/${enc(workflowId)}/executions/${enc(executionId)}`;
}

export class ExecutionMonitorElement extends HTMLElement {
  static observedAttributes = ['workspace-id', 'workflow-id', 'execution-id', 'enable-sse', 'enable-polling', 'polling-interval', 'api-base-url'];

  connectedCallback() {
    this.start();
  }

  disconnectedCallback() {
    this.stop();
  }

  attributeChangedCallback(_name, oldValue, newValue) {
    if (this.watch && oldValue !== newValue) {
      this.stop();
      this.start();
    }
  }

  start() {
    const workspaceId = this.getAttribute('workspace-id');
    const workflowId = this.getAttribute('workflow-id');
    const executionId = this.getAttribute('execution-id');
    if (!workspaceId || !workflowId || !executionId) {
      this.innerHTML = html`<p class="notice notice-error">This monitor needs workspace-id, workflow-id and execution-id.</p>`.markup;
      return;
    }
    const emit = (type, detail) => this.dispatchEvent(new CustomEvent(type, { bubbles: true, detail }));
    this.watch = watchExecution(workspaceId, workflowId, executionId, {
      enableSSE: booleanAttribute(this, 'enable-sse', false),
      enablePolling: booleanAttribute(this, 'enable-polling', true),
      pollingInterval: Number(this.getAttribute('polling-interval')) || 2000,
      baseUrl: this.getAttribute('api-base-url') || '',
      onComplete: (execution) => emit('complete', { execution }),
      onCancel: (execution) => emit('cancel', { execution }),
      onError: (error) => emit('error', { error }),
    });
    this.view = new MonitorView(this, this.watch, { workspaceId, workflowId, executionId });
    this.unsubscribe = this.watch.subscribe((state, change) => this.view.update(state, change));
    this.view.update(this.watch.getSnapshot(), { changedActionIds: null });
  }

  stop() {
    this.unsubscribe?.();
    this.watch?.close();
    this.view?.destroy();
    this.unsubscribe = null;
    this.watch = null;
    this.view = null;
  }
}

class MonitorView {
  constructor(host, watch, ids) {
    this.host = host;
    this.watch = watch;
    this.ids = ids;
    this.executionPath = paths.execution(ids.workspaceId, ids.workflowId, ids.executionId);
    this.rows = null; // actionId -> { element, signature }
    this.stepOrder = '';
    this.retryable = new Set();
    this.lastStatus = null;
    this.tickTimer = null;
    this.buildTimer = null;
    this.dialogAbort = null;
    this.build();
  }

  build() {
    const headingId = uniqueId('monitor-heading');
    const progressLabelId = uniqueId('progress-label');
    this.host.innerHTML = html`
      <section class="monitor" aria-labelledby="${headingId}">
        <div class="monitor-head">
          <h2 class="monitor-title" id="${headingId}" tabindex="-1">Execution <code>${this.ids.executionId}</code></h2>
          <p class="monitor-status" data-slot="status"></p>
        </div>
        <p class="notice" data-slot="loading">Loading the execution…</p>
        <div class="notice notice-error" data-slot="problem" hidden></div>
        <div class="failure" data-slot="failure" hidden></div>
        <div class="notice notice-warning" data-slot="stalled" hidden></div>
        <div class="monitor-body" data-slot="body" hidden>
          <div class="progress">
            <span class="progress-label" id="${progressLabelId}">Progress</span>
            <div class="progress-track" role="progressbar" aria-labelledby="${progressLabelId}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0" data-slot="bar">
              <div class="progress-fill" data-slot="fill"></div>
            </div>
            <span class="progress-text" data-slot="progress-text"></span>
          </div>
          <dl class="facts">
            <div><dt>Started</dt><dd data-slot="started"></dd></div>
            <div><dt data-slot="elapsed-label">Elapsed</dt><dd data-slot="elapsed"></dd></div>
            <div data-slot="remaining-row"><dt>Time remaining</dt><dd data-slot="remaining"></dd></div>
            <div><dt>Workflow version</dt><dd data-slot="version"></dd></div>
            <div data-slot="retry-of-row" hidden><dt>Retry of</dt><dd data-slot="retry-of"></dd></div>
            <div data-slot="retried-by-row" hidden><dt>Retried by</dt><dd data-slot="retried-by"></dd></div>
          </dl>
          <div class="actions">
            <button type="button" class="button button-danger" data-action="cancel" hidden>Cancel execution</button>
            <button type="button" class="button button-primary" data-action="retry" hidden>Retry execution</button>
          </div>
          <div class="notice" data-slot="notice" hidden></div>
          <h3 class="steps-title">Steps</h3>
          <div class="steps-head" aria-hidden="true"><span>#</span><span>Step</span><span>Type</span><span>Status</span><span>Attempt</span><span>Started</span><span>Duration</span></div>
          <ol class="steps" data-slot="steps"></ol>
        </div>
        <div class="visually-hidden" role="status" aria-live="polite" data-slot="announcer"></div>
      </section>`.markup;
    this.slots = Object.fromEntries([...this.host.querySelectorAll('[data-slot]')].map((element) => [element.dataset.slot, element]));
    this.heading = this.host.querySelector('.monitor-title');
    this.cancelButton = this.host.querySelector('[data-action="cancel"]');
    this.retryButton = this.host.querySelector('[data-action="retry"]');
    this.cancelButton.addEventListener('click', () => this.confirmCancel());
    this.retryButton.addEventListener('click', () => this.confirmRetryExecution());
    this.slots.steps.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-retry-step]');
      if (button) this.confirmRetryStep(button.dataset.retryStep, button);
    });
    this.slots.steps.addEventListener('toggle', (event) => {
      const details = event.target;
      if (details.open) this.fillStepDetails(details.closest('li').dataset.actionId);
    }, true);
  }

  destroy() {
    clearInterval(this.tickTimer);
    clearTimeout(this.buildTimer);
    this.tickTimer = null;
    this.dialogAbort?.abort();
    this.host.querySelector('dialog')?.close();
    this.host.replaceChildren();
  }

  // --- state -> DOM ----------------------------------------------------------------------------
  update(state, change) {
    const { execution, error, isLoading } = state;
    this.slots.loading.hidden = !isLoading;
    this.renderProblem(error, execution);
    if (!execution) return;
    this.execution = execution;
    this.slots.body.hidden = false;
    this.renderHeader(execution);
    this.renderSteps(execution, change.changedActionIds);
    this.announce(execution, change);
    this.renderClock();
    this.syncTicking(execution);
  }

  renderProblem(error, execution) {
    const problem = this.slots.problem;
    if (!error) {
      problem.hidden = true;
      return;
    }
    let message = error.message;
    if (error.status === 404) message = 'This execution does not exist, or your sign-in does not give access to its workspace.';
    else if (error.status === 401) message = 'You are not signed in, or your sign-in has expired. Sign in again to follow this execution.';
    else if (execution) message = `${error.message} The page keeps trying; what you see may be out of date.`;
    problem.innerHTML = html`<p><strong>Problem:</strong> ${message}</p>`.markup;
    problem.hidden = false;
  }

  renderHeader(execution) {
    this.slots.status.innerHTML = statusBadge(execution.status).markup;
    this.host.dataset.status = execution.status;
    const progress = execution.progress;
    const text = progressText(progress);
    this.slots.bar.setAttribute('aria-valuenow', String(progress.percentage));
    this.slots.bar.setAttribute('aria-valuetext', text);
    this.slots.fill.style.width = `${progress.percentage}%`; // CSSOM, not a style attribute: CSP-safe
    setText(this.slots['progress-text'], text);
    this.slots.started.innerHTML = html`<time datetime="${execution.startedAt}">${formatDateTime(execution.startedAt)}</time>`.markup;
    setText(this.slots['elapsed-label'], isTerminal(execution.status) ? 'Duration' : 'Elapsed');
    setText(this.slots.version, String(execution.workflowVersion));
    this.renderLink('retry-of', execution.retryOf);
    this.renderLink('retried-by', execution.retriedBy);
    this.cancelButton.hidden = !execution.canCancel;
    this.retryButton.hidden = !execution.canRetry;
    this.renderFailure(execution);
    this.renderStall(execution);
  }

  renderLink(slot, executionId) {
    this.slots[`${slot}-row`].hidden = !executionId;
    if (!executionId) return;
    const href = executionHref(this.ids.workspaceId, this.ids.workflowId, executionId);
    const markup = html`<a href="${href}"><code>${executionId}</code></a>`.markup;
    if (this.slots[slot].innerHTML !== markup) this.slots[slot].innerHTML = markup;
  }

  renderFailure(execution) {
    const failed = (execution.actionResults ?? []).filter((step) => step.status === 'failed');
    const show = execution.status === 'failed' || failed.length > 0;
    this.slots.failure.hidden = !show;
    if (!show) return;
    const items = failed.map((step) => html`<li><a href="#step-${this.ids.executionId}-${step.actionId}">${step.name || step.actionId}</a> failed on attempt ${step.attempt}: <span class="error-text">${step.error || 'no error message'}</span></li>`);
    this.slots.failure.innerHTML = html`
      <h3 class="failure-title"><span class="badge" data-status="failed"><span class="icon" aria-hidden="true"></span></span>Why it failed</h3>
      ${execution.error ? html`<p class="error-text">${execution.error}</p>` : ''}
      ${items.length ? html`<ul class="failure-steps">${items}</ul>` : ''}`.markup;
  }

  renderStall(execution) {
    const stalled = execution.stalled;
    this.slots.stalled.hidden = !stalled;
    if (!stalled) return;
    const step = this.watch.getActionResult(stalled.actionId);
    this.slots.stalled.innerHTML = html`<p><strong>Stalled:</strong> step ${step?.name || stalled.actionId} has run for ${formatDuration(stalled.runningFor)}; it usually takes about ${formatDuration(stalled.expectedDuration)}.</p>`.markup;
  }

  renderSteps(execution, changedActionIds) {
    const steps = execution.actionResults ?? [];
    const order = steps.map((step) => step.actionId).join('\u0000');
    const retryable = new Set(retryableSteps(execution).map((step) => step.actionId));
    if (this.rows === null || order !== this.stepOrder) {
      this.buildSteps(steps, retryable, order);
      return;
    }
    const ids = new Set(changedActionIds ?? steps.map((step) => step.actionId));
    for (const id of new Set([...this.retryable, ...retryable])) {
      if (this.retryable.has(id) !== retryable.has(id)) ids.add(id);
    }
    this.retryable = retryable;
    for (const id of ids) {
      const row = this.rows.get(id);
      const step = row && steps[row.index];
      if (step) this.patchRow(row, step, retryable.has(id));
    }
  }

  /**
   * The first rows now (what the screen shows), the rest in later tasks of ROWS_PER_TASK each,
   * so a 1,000-step execution paints at once and no task blocks input for long. Rows not built
   * yet need no patching: they are built from the state current at their turn.
   */
  buildSteps(steps, retryable, order) {
    this.stepOrder = order;
    this.retryable = retryable;
    clearTimeout(this.buildTimer);
    this.rows = new Map();
    this.slots.steps.replaceChildren();
    this.appendRows(0, FIRST_ROWS);
  }

  appendRows(from, count) {
    this.buildTimer = null;
    const steps = this.execution.actionResults ?? [];
    const upto = Math.min(steps.length, from + count);
    const markup = [];
    for (let index = from; index < upto; index += 1) {
      const step = steps[index];
      markup.push(`<li class="step" id="step-${this.ids.executionId}-${step.actionId}" data-action-id="${step.actionId}" data-status="${step.status}">${this.rowMarkup(step, index, this.retryable.has(step.actionId))}</li>`);
    }
    this.slots.steps.insertAdjacentHTML('beforeend', markup.join(''));
    const elements = this.slots.steps.children;
    for (let index = from; index < upto; index += 1) {
      const step = steps[index];
      this.rows.set(step.actionId, { element: elements[index], index, signature: signature(step, this.retryable.has(step.actionId)) });
    }
    if (upto < steps.length) this.buildTimer = setTimeout(() => this.appendRows(upto, ROWS_PER_TASK), 0);
  }

  patchRow(row, step, canRetry) {
    const next = signature(step, canRetry);
    if (next === row.signature) return;
    row.signature = next;
    const { element } = row;
    const details = element.querySelector('details');
    const wasOpen = details.open;
    const focused = element.contains(document.activeElement) ? (document.activeElement.matches('summary') ? 'summary' : 'retry') : null;
    element.dataset.status = step.status;
    element.innerHTML = this.rowMarkup(step, row.index, canRetry, wasOpen);
    if (wasOpen) this.fillStepDetails(step.actionId);
    if (focused === 'summary') element.querySelector('summary').focus();
    else if (focused === 'retry') (element.querySelector('button[data-retry-step]') ?? element.querySelector('summary')).focus();
  }

  rowMarkup(step, index, canRetry, open = false) {
    const name = step.name || step.actionId;
    return html`<details${raw(open ? ' open' : '')}>
        <summary class="step-summary">
          <span class="step-index">${index + 1}.</span>
          <span class="step-name">${name}</span>
          <span class="step-type"><span class="visually-hidden">type </span>${step.actionType}</span>
          <span class="step-status">${statusBadge(step.status)}</span>
          <span class="step-attempt">${step.attempt ? `Attempt ${step.attempt}` : ''}</span>
          <span class="step-start">${step.startedAt ? html`<span class="visually-hidden">started </span><time datetime="${step.startedAt}">${formatTime(step.startedAt)}</time>` : ''}</span>
          <span class="step-duration" data-started="${step.status === 'running' ? step.startedAt : ''}">${stepDuration(step)}</span>
        </summary>
        <div class="step-body"></div>
      </details>
      ${step.error && step.status === 'failed' ? html`<p class="step-error"><span class="visually-hidden">Error: </span>${step.error}</p>` : ''}
      ${canRetry ? html`<div class="step-actions"><button type="button" class="button button-primary" data-retry-step="${step.actionId}">Retry step<span class="visually-hidden"> ${name}</span></button></div>` : ''}`.markup;
  }

  fillStepDetails(actionId) {
    const step = this.watch.getActionResult(actionId);
    const body = this.rows?.get(actionId)?.element.querySelector('.step-body');
    if (!step || !body) return;
    const attempts = [...(step.history ?? [])];
    if (step.attempt && !attempts.some((attempt) => attempt.attempt === step.attempt)) {
      attempts.push({ attempt: step.attempt, status: step.status, startedAt: step.startedAt, duration: step.duration, error: step.error });
    }
    body.innerHTML = html`
      <dl class="step-facts">
        <div><dt>Step id</dt><dd><code>${step.actionId}</code></dd></div>
        <div><dt>Started</dt><dd>${step.startedAt ? formatDateTime(step.startedAt) : 'Not started'}</dd></div>
        <div><dt>Finished</dt><dd>${step.completedAt ? formatDateTime(step.completedAt) : '—'}</dd></div>
      </dl>
      ${step.error ? html`<h4>Error</h4><pre class="code error-text">${step.error}</pre>` : ''}
      <h4>Output</h4>
      ${step.output === null || step.output === undefined ? html`<p>${isTerminal(step.status) || step.status === 'skipped' ? 'No output.' : 'No output yet.'}</p>` : html`<pre class="code" tabindex="0">${outputPreview(step.output)}</pre>`}
      <h4>Attempts</h4>
      ${attempts.length ? html`<table class="attempts">
        <thead><tr><th scope="col">Attempt</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Duration</th><th scope="col">Error</th></tr></thead>
        <tbody>${attempts.map((attempt) => html`<tr><td>${attempt.attempt}</td><td>${statusBadge(attempt.status)}</td><td>${formatTime(attempt.startedAt)}</td><td>${formatDuration(attempt.duration)}</td><td class="error-text">${attempt.error || ''}</td></tr>`)}</tbody>
      </table>` : html`<p>No attempt yet.</p>`}`.markup;
  }

  // --- live clock ------------------------------------------------------------------------------
  syncTicking(execution) {
    const running = !isTerminal(execution.status);
    if (running && !this.tickTimer) this.tickTimer = setInterval(() => this.renderClock(), TICK_MS);
    if (!running && this.tickTimer) {
      clearInterval(this.tickTimer);
      this.tickTimer = null;
    }
  }

  renderClock() {
    const execution = this.execution;
    if (!execution) return;
    const terminal = isTerminal(execution.status);
    const elapsed = terminal && execution.duration !== null ? execution.duration : elapsedSince(execution.startedAt, execution.completedAt);
    setText(this.slots.elapsed, terminal ? formatDuration(elapsed) : formatClockDuration(elapsed));
    this.slots['remaining-row'].hidden = terminal;
    if (!terminal) setText(this.slots.remaining, remainingText(execution.progress));
    for (const cell of this.slots.steps.querySelectorAll('.step[data-status="running"] .step-duration[data-started]')) {
      setText(cell, formatClockDuration(elapsedSince(cell.dataset.started)));
    }
  }

  // --- announcements (polite; status changes and step failures, never percentages) ----------
  announce(execution, change) {
    const messages = [];
    if (this.lastStatus !== null && this.lastStatus !== execution.status) {
      const detail = execution.status === 'failed' && execution.error ? `: ${execution.error}` : '';
      messages.push(`Execution ${statusLabel(execution.status).toLowerCase()}${detail}.`);
    }
    if (this.lastStatus !== null && change.previous) {
      const before = new Map((change.previous.actionResults ?? []).map((step) => [step.actionId, step.status]));
      const changed = change.changedActionIds ?? execution.actionResults.map((step) => step.actionId);
      for (const id of changed) {
        const step = this.watch.getActionResult(id);
        if (step?.status === 'failed' && before.get(id) !== 'failed') messages.push(`Step ${step.name || id} failed: ${step.error || 'no error message'}.`);
      }
    }
    this.lastStatus = execution.status;
    if (messages.length) setText(this.slots.announcer, messages.join(' '));
  }

  // --- commands, each confirmed in a dialog ----------------------------------------------------
  showNotice(markup) {
    this.slots.notice.innerHTML = markup;
    this.slots.notice.hidden = false;
  }

  failureMessage(fallback) {
    return this.watch.error?.message || fallback;
  }

  confirmCancel() {
    const steps = this.execution.actionResults ?? [];
    const running = steps.find((step) => step.status === 'running');
    const waiting = steps.filter((step) => step.status === 'pending').length;
    const completed = steps.filter((step) => step.status === 'completed').length;
    openConfirmDialog({
      host: this.host,
      trigger: this.cancelButton,
      fallbackFocus: this.heading,
      title: 'Cancel this execution?',
      description: html`<ul class="plan-steps">
        ${running ? html`<li>The running step, ${running.name || running.actionId}, is stopped and marked cancelled.</li>` : ''}
        <li>${waiting} ${waiting === 1 ? 'step' : 'steps'} not started yet will be skipped.</li>
        <li>${completed} completed ${completed === 1 ? 'step keeps its' : 'steps keep their'} results.</li>
        <li>You can resume it later with Retry step, or run it again with Retry execution.</li></ul>`,
      dismissLabel: 'Keep running',
      confirmLabel: 'Cancel execution',
      confirm: async () => ((await this.watch.cancelExecution()) ? null : this.failureMessage('The execution could not be cancelled.')),
    });
  }

  confirmRetryExecution() {
    this.openRetryDialog({
      trigger: this.retryButton,
      actionId: null,
      title: 'Retry this execution?',
      description: html`<p>A new execution starts with the same input and workflow definition. This one stays as it is, linked to the new one.</p>`,
      confirmLabel: 'Retry execution',
      confirm: async () => {
        const created = await this.watch.retryExecution();
        if (!created) return this.failureMessage('The execution could not be retried.');
        const event = new CustomEvent('retry', { bubbles: true, cancelable: true, detail: { execution: created } });
        if (this.host.dispatchEvent(event)) {
          const href = executionHref(this.ids.workspaceId, this.ids.workflowId, created.id);
          this.showNotice(html`<p>Retry started: <a href="${href}">execution <code>${created.id}</code></a>.</p>`.markup);
        }
        return null;
      },
    });
  }

  confirmRetryStep(actionId, trigger) {
    const step = this.watch.getActionResult(actionId);
    const name = step?.name || actionId;
    const resume = this.execution.status === 'cancelled';
    this.openRetryDialog({
      trigger,
      actionId,
      title: resume ? `Resume from step ${name}?` : `Retry step ${name}?`,
      description: html`<p>${resume ? 'The execution continues from this step' : 'This step runs again'}, then the steps after it. Steps before it keep their results.</p>`,
      confirmLabel: 'Retry step',
      confirm: async () => ((await this.watch.retryStep(actionId)) ? null : this.failureMessage('The step could not be retried.')),
    });
  }

  openRetryDialog({ trigger, actionId, title, description, confirmLabel, confirm }) {
    const headingId = uniqueId('plan-heading');
    const { closed, detailsSlot } = openConfirmDialog({
      host: this.host,
      trigger,
      fallbackFocus: this.heading,
      title,
      description,
      dismissLabel: 'Close',
      confirmLabel,
      confirm,
      details: html`<section class="plan" aria-labelledby="${headingId}">
        <h3 class="plan-title" id="${headingId}">What the retry will do</h3>
        <div class="plan-body" data-slot="details" aria-busy="true"><p>Loading the retry plan…</p></div>
      </section>`,
    });
    const controller = new AbortController();
    this.dialogAbort = controller;
    closed.then(() => controller.abort());
    loadRetryPlan(this.watch.api, this.executionPath, this.execution, actionId, controller.signal)
      .then((result) => {
        detailsSlot.innerHTML = renderRetryPlan(result, this.execution).markup;
        detailsSlot.removeAttribute('aria-busy');
      })
      .catch(() => {}); // aborted: the dialog closed first
  }
}

function signature(step, canRetry) {
  return `${step.status}|${step.attempt}|${step.startedAt}|${step.completedAt}|${step.duration}|${step.error}|${step.history?.length ?? 0}|${canRetry}|${step.output === null || step.output === undefined ? 0 : 1}`;
}

function stepDuration(step) {
  if (step.duration !== null && step.duration !== undefined) return formatDuration(step.duration);
  if (step.status === 'running') return formatClockDuration(elapsedSince(step.startedAt));
  return '';
}

function remainingText(progress) {
  if (!progress?.estimatedCompletionAt) return progress?.estimatedTimeRemaining ? `About ${formatClockDuration(progress.estimatedTimeRemaining)}` : 'Estimating…';
  const left = Date.parse(progress.estimatedCompletionAt) - Date.now();
  return left > 0 ? `About ${formatClockDuration(left)}` : 'Any moment now';
}

function outputPreview(output) {
  const text = typeof output === 'string' ? output : JSON.stringify(output, null, 2);
  return text.length > OUTPUT_PREVIEW_CHARS ? `${text.slice(0, OUTPUT_PREVIEW_CHARS)}\n… (${text.length - OUTPUT_PREVIEW_CHARS} more characters)` : text;
}

if (!customElements.get('execution-monitor')) customElements.define('execution-monitor', ExecutionMonitorElement);
