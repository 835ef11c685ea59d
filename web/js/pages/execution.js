// /workspaces/{ws}/workflows/{wf}/executions/{ex}: one <execution-monitor>, following over SSE.
import { html } from '../dom.js';
import { executionHref } from '../execution-monitor.js';
import { workflowHref } from '../lists.js';
import { breadcrumbs } from './common.js';

export function executionPage(main, { workspaceId, workflowId, executionId }, app) {
  app.setTitle(`Execution ${executionId}`);
  main.innerHTML = html`
    ${breadcrumbs([['Home', '/'], [`Workspace ${workspaceId}`, `/workspaces/${encodeURIComponent(workspaceId)}`], [`Workflow ${workflowId}`, workflowHref(workspaceId, workflowId)], ['Execution']])}
    <h1 tabindex="-1">Workflow <code>${workflowId}</code>: execution</h1>
    <execution-monitor workspace-id="${workspaceId}" workflow-id="${workflowId}" execution-id="${executionId}" enable-sse></execution-monitor>`.markup;
  const monitor = main.querySelector('execution-monitor');
  monitor.addEventListener('retry', (event) => {
    event.preventDefault();
    app.navigate(executionHref(workspaceId, workflowId, event.detail.execution.id), { announce: 'Retry started: following the new execution.' });
  });
  return () => monitor.remove();
}
