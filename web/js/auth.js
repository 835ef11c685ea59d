// Sign-in. The access token lives in sessionStorage (this tab only, gone when it closes).
//
// Providers are pluggable: `fragmentProvider` (always on) takes `#access_token=<jwt>` from the
// address bar, as `make dev` prints it; `cognitoProvider` (on when /config.json names a Cognito
// domain and client id) runs Cognito managed login with the authorization code flow and PKCE.
// Another provider is an object { name, handleRedirect(), signIn(returnTo) }.

const TOKEN_KEY = 'execmon.accessToken';
const EXPIRY_KEY = 'execmon.accessTokenExpiresAt';
const PKCE_KEY = 'execmon.pkce';

export function getAccessToken() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const expiresAt = Number(sessionStorage.getItem(EXPIRY_KEY) || 0);
  if (token && expiresAt && Date.now() >= expiresAt) {
    clearAccessToken();
    return null;
  }
  return token;
}

export function storeAccessToken(token, expiresAt = tokenExpiry(token)) {
  sessionStorage.setItem(TOKEN_KEY, token);
  if (expiresAt) sessionStorage.setItem(EXPIRY_KEY, String(expiresAt));
  else sessionStorage.removeItem(EXPIRY_KEY);
}

export function clearAccessToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(EXPIRY_KEY);
}

/** The JWT's claims, unverified: only for display and navigation (the API verifies the token). */
export function tokenClaims(token = getAccessToken()) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, '=')));
  } catch {
    return {};
  }
}

function tokenExpiry(token) {
  const exp = tokenClaims(token).exp;
  return typeof exp === 'number' ? exp * 1000 : null;
}

/** Workspaces the token grants (Cognito groups `workspace:<id>`). */
export function tokenWorkspaces(token = getAccessToken()) {
  const groups = tokenClaims(token)['cognito:groups'];
  return (Array.isArray(groups) ? groups : [])
    .filter((group) => typeof group === 'string' && group.startsWith('workspace:'))
    .map((group) => group.slice('workspace:'.length));
}

export const fragmentProvider = {
  name: 'fragment',
  canSignIn: false,
  async handleRedirect(location = window.location) {
    const params = new URLSearchParams(location.hash.slice(1));
    const token = params.get('access_token');
    if (!token) return false;
    storeAccessToken(token);
    params.delete('access_token');
    const rest = params.toString();
    // The token must not stay in the address bar, the history or a bookmark.
    history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
    return true;
  },
};

function base64Url(bytes) {
  let binary = '';
  bytes.forEach((byte) => {
    binary += String.fromCharCode(byte);
  });
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function randomString(byteLength = 32) {
  return base64Url(crypto.getRandomValues(new Uint8Array(byteLength)));
}

/** RFC 7636 S256: base64url(SHA-256(verifier)). */
export async function pkceChallenge(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

/**
 * Cognito managed login (authorization code + PKCE, public client: no secret in the browser).
 * config: { domain: "https://<prefix>.auth.<region>.amazoncognito.com", clientId,
 *           scopes?: ["openid", ...], redirectUri?: defaults to <origin>/ }
 */
export function cognitoProvider(config, { fetchImpl = (...args) => fetch(...args) } = {}) {
  const domain = config.domain.replace(/\/+$/, '');
  const redirectUri = config.redirectUri || `${window.location.origin}/`;
  const scopes = config.scopes || ['openid', 'email'];
  return {
    name: 'cognito',
    canSignIn: true,
    async signIn(returnTo = `${window.location.pathname}${window.location.search}`) {
      const verifier = randomString(48);
      const state = randomString(16);
      sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, returnTo }));
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: config.clientId,
        redirect_uri: redirectUri,
        scope: scopes.join(' '),
        state,
        code_challenge_method: 'S256',
        code_challenge: await pkceChallenge(verifier),
      });
      window.location.assign(`${domain}/oauth2/authorize?${query}`);
    },
    async handleRedirect(location = window.location) {
      const params = new URLSearchParams(location.search);
      const code = params.get('code');
      const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) || 'null');
      if (!code || !pending) return false;
      sessionStorage.removeItem(PKCE_KEY);
      if (params.get('state') !== pending.state) throw new Error('The sign-in answer did not match this tab’s request.');
      const response = await fetchImpl(`${domain}/oauth2/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: config.clientId,
          code,
          redirect_uri: redirectUri,
          code_verifier: pending.verifier,
        }),
      });
      if (!response.ok) throw new Error(`Sign-in failed: the token endpoint answered ${response.status}.`);
      const tokens = await response.json();
      storeAccessToken(tokens.access_token, Date.now() + Number(tokens.expires_in || 3600) * 1000);
      history.replaceState(null, '', pending.returnTo || '/');
      return true;
    },
  };
}

/** /config.json next to index.html (written by the AWS deployment; absent locally). */
export async function loadConfig(url = '/config.json') {
  try {
    const response = await fetch(url, { cache: 'no-cache' });
    const isJson = (response.headers.get('Content-Type') || '').includes('json');
    return response.ok && isJson ? await response.json() : {};
  } catch {
    return {};
  }
}

let providers = [fragmentProvider];

/** Providers for this deployment: the fragment always, Cognito when configured. */
export function configureAuth(config = {}) {
  providers = [fragmentProvider];
  if (config.auth?.type === 'cognito' && config.auth.domain && config.auth.clientId) {
    providers.push(cognitoProvider(config.auth));
  }
  return providers;
}

/** Completes whichever sign-in redirect brought the browser here (at most one applies). */
export async function handleSignInRedirect() {
  for (const provider of providers) {
    if (await provider.handleRedirect()) return provider.name;
  }
  return null;
}

/** The provider that can send the user to a sign-in page, if this deployment has one. */
export function interactiveProvider() {
  return providers.find((provider) => provider.canSignIn) ?? null;
}

export function signOut() {
  clearAccessToken();
}
