// Execution and workflow tables for the list pages, refreshed like the monitor (polling every
// 2 s with If-None-Match, paused while the tab is hidden) and re-rendered only when they change.
import { html } from './dom.js';
import { executionHref } from './execution-monitor.js';
import { elapsedSince, formatDateTime, formatDuration, progressText } from './format.js';
import { statusBadge } from './status.js';

export function workflowHref(workspaceId, workflowId) {
  return `/workspaces/${encodeURIComponent(workspaceId)}/workflows/${encodeURIComponent(workflowId)}`;
}

export function executionsTable(executions, { workspaceId, caption, showWorkflow = false }) {
  if (!executions.length) return html`<p class="empty">No executions to show.</p>`;
  return html`<table class="list">
    <caption class="visually-hidden">${caption}</caption>
    <thead><tr>
      <th scope="col">Execution</th>${showWorkflow ? html`<th scope="col">Workflow</th>` : ''}<th scope="col">Status</th>
      <th scope="col">Started</th><th scope="col">Duration</th><th scope="col">Progress</th>
    </tr></thead>
    <tbody>${executions.map((execution) => html`<tr>
      <td><a href="${executionHref(workspaceId, execution.workflowId, execution.id)}"><code>${execution.id}</code></a></td>
      ${showWorkflow ? html`<td><a href="${workflowHref(workspaceId, execution.workflowId)}">${execution.workflowId}</a></td>` : ''}
      <td>${statusBadge(execution.status)}</td>
      <td><time datetime="${execution.startedAt}">${formatDateTime(execution.startedAt)}</time></td>
      <td>${formatDuration(execution.duration ?? elapsedSince(execution.startedAt))}</td>
      <td>${progressText(execution.progress)}</td>
    </tr>`)}</tbody>
  </table>`;
}

export function workflowsTable(workflows, { workspaceId }) {
  if (!workflows.length) return html`<p class="empty">This workspace has no workflows yet.</p>`;
  return html`<table class="list">
    <caption class="visually-hidden">Workflows</caption>
    <thead><tr><th scope="col">Workflow</th><th scope="col">Version</th><th scope="col">Updated</th><th scope="col">Last execution</th></tr></thead>
    <tbody>${workflows.map((workflow) => {
      const lastStatus = workflow.lastExecution?.status ?? workflow.lastExecutionStatus ?? null;
      return html`<tr>
        <td><a href="${workflowHref(workspaceId, workflow.id)}">${workflow.name || workflow.id}</a> <code>${workflow.id}</code></td>
        <td>${workflow.version}</td>
        <td><time datetime="${workflow.updatedAt}">${formatDateTime(workflow.updatedAt)}</time></td>
        <td>${lastStatus ? statusBadge(lastStatus) : html`<span class="empty">Never run</span>`}</td>
      </tr>`;
    })}</tbody>
  </table>`;
}

/**
 * Replaces `container`'s content with `markup` unless it is what is shown already; a focused
 * link keeps its focus across the swap (found again by its href).
 */
const shown = new WeakMap();

export function swapContent(container, markup) {
  if (shown.get(container) === markup) return;
  const focusedHref = container.contains(document.activeElement) ? document.activeElement.getAttribute('href') : null;
  container.innerHTML = markup;
  shown.set(container, markup);
  if (focusedHref) container.querySelector(`a[href="${CSS.escape(focusedHref)}"]`)?.focus();
}
