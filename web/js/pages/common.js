// Pieces every page uses: breadcrumbs, the "not available" state, a polled list section.
import { html, uniqueId } from '../dom.js';
import { Poller } from '../poller.js';
import { swapContent } from '../lists.js';

export function breadcrumbs(items) {
  return html`<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>${items.map(([label, href], index) =>
    index === items.length - 1 ? html`<li><span aria-current="page">${label}</span></li>` : html`<li><a href="${href}">${label}</a></li>`)}</ol></nav>`;
}

export function problemMarkup(error, what) {
  if (error.status === 404) {
    return html`<p class="notice">Nothing to show: this server does not list ${what} yet, or your sign-in has no access here (HTTP 404).</p>`;
  }
  if (error.status === 401) return html`<p class="notice notice-error">You are not signed in, or your sign-in has expired.</p>`;
  return html`<p class="notice notice-error">${what[0].toUpperCase()}${what.slice(1)} could not be loaded: ${error.message} The page keeps trying.</p>`;
}

/**
 * A section whose content comes from one GET, polled every `intervalMs` (If-None-Match when the
 * server gives an ETag). 401 and 404 stop the polling: waiting will not change them.
 */
export function pollSection(container, { api, path, intervalMs = 2000, render, what }) {
  let etag = null;
  const poller = new Poller(async (signal) => {
    const answer = await api.get(path(), { etag, signal });
    if (answer.status === 304) return;
    etag = answer.etag;
    swapContent(container, render(answer.body).markup);
  }, intervalMs, {
    onError: (error) => {
      swapContent(container, problemMarkup(error, what).markup);
      if (error.status === 401 || error.status === 404) poller.stop();
    },
  });
  poller.start();
  return {
    poller,
    /** The query changed (a filter): forget the ETag and read now. */
    reload() {
      etag = null;
      poller.start();
      poller.poke();
    },
  };
}

/** "Open a workspace/workflow by id": a small form section; `hrefFor(id)` is where it goes. */
export function openByIdSection(what) {
  const headingId = uniqueId('open-heading');
  const inputId = uniqueId('open-id');
  return html`<section class="page-section" aria-labelledby="${headingId}">
      <h2 id="${headingId}">Open a ${what}</h2>
      <form class="toolbar" data-open-by-id>
        <div class="field"><label for="${inputId}">${what[0].toUpperCase()}${what.slice(1)} id</label>
          <input id="${inputId}" name="id" required pattern="[A-Za-z0-9_\\-]{1,64}" autocomplete="off"></div>
        <button type="submit" class="button">Open</button>
      </form>
    </section>`;
}

export function wireOpenById(container, app, hrefFor) {
  container.querySelector('form[data-open-by-id]').addEventListener('submit', (event) => {
    event.preventDefault();
    app.navigate(hrefFor(encodeURIComponent(new FormData(event.target).get('id'))));
  });
}
