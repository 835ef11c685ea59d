import { tokenWorkspaces } from '../auth.js';
import { html } from '../dom.js';
import { openByIdSection, wireOpenById } from './common.js';

export function homePage(main, _params, app) {
  const workspaces = tokenWorkspaces();
  app.setTitle('Execution Monitor');
  main.innerHTML = html`
    <h1 tabindex="-1">Execution Monitor</h1>
    <p class="lead">Watch workflow executions live: every step’s status, errors and retries.</p>
    <section class="page-section" aria-labelledby="home-workspaces">
      <h2 id="home-workspaces">Your workspaces</h2>
      ${workspaces.length
        ? html`<ul>${workspaces.map((id) => html`<li><a href="/workspaces/${encodeURIComponent(id)}">${id}</a></li>`)}</ul>`
        : html`<p class="empty">Your sign-in names no workspace.</p>`}
    </section>
    ${openByIdSection('workspace')}`.markup;
  wireOpenById(main, app, (id) => `/workspaces/${id}`);
  return () => {};
}
