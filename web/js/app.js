// The monitor app: sign-in, path routes, page lifecycle (each page returns its cleanup).
import { createApi } from './api.js';
import { configureAuth, fragmentProvider, getAccessToken, handleSignInRedirect, interactiveProvider, loadConfig, signOut, tokenClaims } from './auth.js';
import { html, setText } from './dom.js';
import './execution-monitor.js';
import { executionPage } from './pages/execution.js';
import { homePage } from './pages/home.js';
import { workflowPage } from './pages/workflow.js';
import { workspacePage } from './pages/workspace.js';

const SEGMENT = '([^/]+)';
const ROUTES = [
  [/^\/$/, [], homePage],
  [new RegExp(`^/workspaces/${SEGMENT}/?$`), ['workspaceId'], workspacePage],
  [new RegExp(`^/workspaces/${SEGMENT}/workflows/${SEGMENT}/?$`), ['workspaceId', 'workflowId'], workflowPage],
  [new RegExp(`^/workspaces/${SEGMENT}/workflows/${SEGMENT}/executions/${SEGMENT}/?$`), ['workspaceId', 'workflowId', 'executionId'], executionPage],
];

const main = document.getElementById('main');
const announcer = document.getElementById('page-announcer');
let cleanup = () => {};

const app = {
  api: createApi({ baseUrl: '' }),
  setTitle(title) {
    document.title = `${title} · Execution Monitor`;
  },
  announce(message) {
    setText(announcer, message);
  },
  navigate(path, { announce = '' } = {}) {
    history.pushState(null, '', path);
    render({ focus: true });
    if (announce) app.announce(announce);
  },
};

function route(pathname) {
  for (const [pattern, names, page] of ROUTES) {
    const found = pattern.exec(pathname);
    if (found) return { page, params: Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(found[index + 1])])) };
  }
  return null;
}

function notFoundPage(target) {
  app.setTitle('Page not found');
  target.innerHTML = html`<h1 tabindex="-1">Page not found</h1><p>Nothing lives at this address. <a href="/">Go to the start page</a>.</p>`.markup;
  return () => {};
}

function signInPage(target) {
  app.setTitle('Sign in');
  const provider = interactiveProvider();
  target.innerHTML = html`<h1 tabindex="-1">Sign in</h1>
    ${provider
      ? html`<p>Sign in to see your workspaces’ executions.</p><p><button type="button" class="button button-primary" data-action="sign-in">Sign in</button></p>`
      : html`<p>This monitor has no sign-in page here. Open the monitor link that <code>make dev</code> prints: it signs you in to the demo workspace.</p>`}`.markup;
  target.querySelector('[data-action="sign-in"]')?.addEventListener('click', () => provider.signIn());
  return () => {};
}

function renderAccount() {
  const nav = document.getElementById('account');
  const token = getAccessToken();
  nav.innerHTML = token
    ? html`<span>Signed in as ${tokenClaims(token).email || tokenClaims(token).username || tokenClaims(token).sub || 'you'}</span><button type="button" class="button" data-action="sign-out">Sign out</button>`.markup
    : '';
  nav.querySelector('[data-action="sign-out"]')?.addEventListener('click', () => {
    signOut();
    render({ focus: true });
  });
}

function render({ focus = false } = {}) {
  cleanup();
  renderAccount();
  const found = route(window.location.pathname);
  if (!getAccessToken()) cleanup = signInPage(main);
  else if (!found) cleanup = notFoundPage(main);
  else cleanup = found.page(main, found.params, app);
  if (focus) main.querySelector('h1')?.focus();
}

/** Same-origin links to app pages change the page without a reload. */
function interceptLinks(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest('a[href]');
  if (!link || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href);
  if (url.origin !== window.location.origin || url.pathname.startsWith('/api/')) return;
  if (url.pathname === window.location.pathname && url.search === window.location.search) return; // in-page anchors
  event.preventDefault();
  app.navigate(`${url.pathname}${url.search}`);
}

async function start() {
  await fragmentProvider.handleRedirect(); // first: the token leaves the address bar at once
  configureAuth(await loadConfig());
  try {
    await handleSignInRedirect();
  } catch (error) {
    app.announce(error.message);
  }
  document.addEventListener('click', interceptLinks);
  window.addEventListener('popstate', () => render({ focus: true }));
  render();
}

start();
