// /workspaces/{ws}: running executions across the workspace and its workflows.
import { paths } from '../api.js';
import { html } from '../dom.js';
import { executionsTable, workflowsTable } from '../lists.js';
import { breadcrumbs, openByIdSection, pollSection, wireOpenById } from './common.js';

export function workspacePage(main, { workspaceId }, app) {
  app.setTitle(`Workspace ${workspaceId}`);
  main.innerHTML = html`
    ${breadcrumbs([['Home', '/'], [`Workspace ${workspaceId}`]])}
    <h1 tabindex="-1">Workspace <code>${workspaceId}</code></h1>
    <section class="page-section" aria-labelledby="ws-running">
      <h2 id="ws-running">Running executions</h2>
      <div data-slot="running"><p>Loading…</p></div>
    </section>
    <section class="page-section" aria-labelledby="ws-workflows">
      <h2 id="ws-workflows">Workflows</h2>
      <div data-slot="workflows"><p>Loading…</p></div>
    </section>
    ${openByIdSection('workflow')}`.markup;
  wireOpenById(main, app, (id) => `/workspaces/${encodeURIComponent(workspaceId)}/workflows/${id}`);
  const running = pollSection(main.querySelector('[data-slot="running"]'), {
    api: app.api,
    what: 'running executions',
    path: () => `${paths.workspaceExecutions(workspaceId)}?status=running&limit=50`,
    render: (body) => executionsTable(body.executions ?? [], { workspaceId, caption: 'Running executions', showWorkflow: true }),
  });
  const workflows = pollSection(main.querySelector('[data-slot="workflows"]'), {
    api: app.api,
    what: 'workflows',
    path: () => `${paths.workflows(workspaceId)}?limit=100`,
    render: (body) => workflowsTable(body.workflows ?? [], { workspaceId }),
  });
  return () => {
    running.poller.stop();
    workflows.poller.stop();
  };
}
