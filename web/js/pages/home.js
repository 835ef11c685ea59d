import { tokenWorkspaces } from '../auth.js';
import { html } from '../dom.js';

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
    <section class="page-section" aria-labelledby="home-open">
      <h2 id="home-open">Open a workspace</h2>
      <form class="toolbar" data-slot="open">
        <div class="field"><label for="home-workspace-id">Workspace id</label>
          <input id="home-workspace-id" name="workspace" required pattern="[A-Za-z0-9_\\-]{1,64}" autocomplete="off"></div>
        <button type="submit" class="button">Open</button>
      </form>
    </section>`.markup;
  main.querySelector('form').addEventListener('submit', (event) => {
    event.preventDefault();
    app.navigate(`/workspaces/${encodeURIComponent(new FormData(event.target).get('workspace'))}`);
  });
  return () => {};
}
