// /workspaces/{ws}/workflows/{wf}: the definition, start an execution, recent executions.
import { paths } from '../api.js';
import { html, setText } from '../dom.js';
import { executionHref } from '../execution-monitor.js';
import { executionsTable, swapContent } from '../lists.js';
import { EXECUTION_STATUSES, statusLabel } from '../status.js';
import { breadcrumbs, pollSection, problemMarkup } from './common.js';

const PAGE_SIZE = 20;

export function workflowPage(main, { workspaceId, workflowId }, app) {
  app.setTitle(`Workflow ${workflowId}`);
  const statusFilter = new URLSearchParams(window.location.search).get('status') || '';
  main.innerHTML = html`
    ${breadcrumbs([['Home', '/'], [`Workspace ${workspaceId}`, `/workspaces/${encodeURIComponent(workspaceId)}`], [`Workflow ${workflowId}`]])}
    <h1 tabindex="-1" data-slot="title">Workflow <code>${workflowId}</code></h1>
    <p class="lead" data-slot="summary"></p>
    <section class="page-section" aria-labelledby="wf-start">
      <h2 id="wf-start">Start an execution</h2>
      <form data-slot="start" novalidate>
        <div class="field">
          <label for="wf-input">Input (a JSON object)</label>
          <p class="field-help" id="wf-input-help">Steps read it as <code>{{input.path}}</code>. Leave <code>{}</code> for none.</p>
          <textarea id="wf-input" name="input" aria-describedby="wf-input-help wf-input-error" spellcheck="false">{}</textarea>
          <p class="field-error" id="wf-input-error" hidden></p>
        </div>
        <p><button type="submit" class="button button-primary">Start execution</button></p>
      </form>
    </section>
    <section class="page-section" aria-labelledby="wf-executions">
      <h2 id="wf-executions">Recent executions</h2>
      <div class="toolbar">
        <div class="field"><label for="wf-status">Status</label>
          <select id="wf-status">
            <option value="">All statuses</option>
            ${EXECUTION_STATUSES.map((status) => html`<option value="${status}"${status === statusFilter ? html` selected` : ''}>${statusLabel(status)}</option>`)}
          </select></div>
      </div>
      <div data-slot="executions"><p>Loading…</p></div>
      <div data-slot="older"></div>
      <p><button type="button" class="button" data-slot="more" hidden>Show older executions</button></p>
    </section>
    <section class="page-section" aria-labelledby="wf-definition">
      <h2 id="wf-definition">Definition</h2>
      <div data-slot="definition"><p>Loading…</p></div>
    </section>`.markup;
  const slot = (name) => main.querySelector(`[data-slot="${name}"]`);
  const select = main.querySelector('#wf-status');
  let nextCursor = null;

  const query = (cursor = null) => {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (select.value) params.set('status', select.value);
    if (cursor) params.set('cursor', cursor);
    return `${paths.executions(workspaceId, workflowId)}?${params}`;
  };
  const recent = pollSection(slot('executions'), {
    api: app.api,
    what: 'executions',
    path: () => query(),
    render: (body) => {
      if (!slot('older').hasChildNodes()) {
        nextCursor = body.nextCursor ?? null;
        slot('more').hidden = !nextCursor;
      }
      return executionsTable(body.executions ?? [], { workspaceId, caption: 'Recent executions' });
    },
  });
  select.addEventListener('change', () => {
    const url = new URL(window.location.href);
    if (select.value) url.searchParams.set('status', select.value);
    else url.searchParams.delete('status');
    history.replaceState(history.state, '', url);
    slot('older').replaceChildren();
    recent.reload();
  });
  slot('more').addEventListener('click', async () => {
    try {
      const { body } = await app.api.get(query(nextCursor));
      const page = document.createElement('div');
      page.innerHTML = executionsTable(body.executions ?? [], { workspaceId, caption: 'Older executions' }).markup;
      slot('older').append(page);
      nextCursor = body.nextCursor ?? null;
      slot('more').hidden = !nextCursor;
      page.querySelector('a')?.focus();
    } catch (error) {
      swapContent(slot('older'), problemMarkup(error, 'older executions').markup);
    }
  });

  loadDefinition(app, workspaceId, workflowId, slot);
  wireStartForm(app, workspaceId, workflowId, slot('start'));
  return () => recent.poller.stop();
}

async function loadDefinition(app, workspaceId, workflowId, slot) {
  try {
    const { body } = await app.api.get(paths.workflow(workspaceId, workflowId));
    const workflow = body.workflow;
    slot('title').innerHTML = html`${workflow.name} <code>${workflow.id}</code>`.markup;
    app.setTitle(workflow.name);
    setText(slot('summary'), `Version ${workflow.version} · ${workflow.actions.length} ${workflow.actions.length === 1 ? 'step' : 'steps'}${workflow.description ? ` · ${workflow.description}` : ''}`);
    slot('definition').innerHTML = html`<ol>${workflow.actions.map((action) => html`<li><strong>${action.name || action.id}</strong> <code>${action.id}</code> · ${action.type}${action.retry ? ` · up to ${action.retry.maxAttempts} attempts` : ''}</li>`)}</ol>`.markup;
  } catch (error) {
    slot('definition').innerHTML = problemMarkup(error, 'this workflow').markup;
  }
}

function wireStartForm(app, workspaceId, workflowId, form) {
  const textarea = form.querySelector('textarea');
  const errorLine = form.querySelector('.field-error');
  const button = form.querySelector('button');
  const showError = (message) => {
    errorLine.textContent = message;
    errorLine.hidden = !message;
    if (message) textarea.setAttribute('aria-invalid', 'true');
    else textarea.removeAttribute('aria-invalid');
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let input;
    try {
      input = JSON.parse(textarea.value.trim() || '{}');
    } catch (error) {
      showError(`The input is not valid JSON: ${error.message}`);
      textarea.focus();
      return;
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      showError('The input must be a JSON object, like {"order": 7}.');
      textarea.focus();
      return;
    }
    showError('');
    button.disabled = true;
    try {
      const { body } = await app.api.post(paths.executions(workspaceId, workflowId), { input }, {
        headers: { 'Idempotency-Key': crypto.randomUUID() }, // a double submit starts one execution
      });
      app.navigate(executionHref(workspaceId, workflowId, body.execution.id), { announce: 'Execution started.' });
    } catch (error) {
      showError(`The execution could not be started: ${error.message}`);
      button.disabled = false;
      textarea.focus();
    }
  });
}
