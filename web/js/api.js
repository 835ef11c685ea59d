// The REST API: bearer auth, JSON, the error envelope, timeouts (no request can hang a view).
import { getAccessToken } from './auth.js';

export const DEFAULT_TIMEOUT_MS = 15_000;

export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const enc = encodeURIComponent;

export const paths = {
  workspace: (ws) => `/api/workspaces/${enc(ws)}`,
  workflows: (ws) => `/api/workspaces/${enc(ws)}/workflows`,
  workspaceExecutions: (ws) => `/api/workspaces/${enc(ws)}/executions`,
  workflow: (ws, wf) => `/api/workspaces/${enc(ws)}/workflows/${enc(wf)}`,
  executions: (ws, wf) => `${paths.workflow(ws, wf)}/executions`,
  execution: (ws, wf, ex) => `${paths.executions(ws, wf)}/${enc(ex)}`,
};

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function errorFrom(status, body) {
  const error = body?.error;
  if (error?.message) return new ApiError(status, error.code || 'error', error.message, error.details || null);
  return new ApiError(status, 'http_error', `The server answered ${status}.`);
}

/**
 * An API client. `getToken` supplies the bearer token per request (so a refreshed token is used
 * at once); `fetchImpl` and `baseUrl` let another app (or a test) plug in its own.
 */
export function createApi({
  baseUrl = '',
  getToken = getAccessToken,
  fetchImpl = (...args) => globalThis.fetch(...args),
  timeoutMs = DEFAULT_TIMEOUT_MS,
} = {}) {
  async function request(method, path, { body, etag, signal, headers = {} } = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), timeoutMs);
    const forward = () => controller.abort(signal.reason);
    signal?.addEventListener('abort', forward, { once: true });
    const sent = { Accept: 'application/json', ...headers };
    const token = getToken();
    if (token) sent.Authorization = `Bearer ${token}`;
    if (body !== undefined) sent['Content-Type'] = 'application/json';
    if (etag) sent['If-None-Match'] = etag;
    try {
      const response = await fetchImpl(`${baseUrl}${path}`, {
        method,
        headers: sent,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store', // the app revalidates itself with If-None-Match; 304s must reach it
        signal: controller.signal,
      });
      if (response.status === 304) return { status: 304, etag, body: null };
      const text = await response.text();
      const data = text ? parseJson(text) : null;
      if (!response.ok) throw errorFrom(response.status, data);
      return { status: response.status, etag: response.headers.get('ETag'), body: data };
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (signal?.aborted) throw signal.reason ?? error;
      if (controller.signal.aborted) throw new ApiError(0, 'timeout', 'The server did not answer in time.');
      throw new ApiError(0, 'network', 'The server cannot be reached.');
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
    }
  }

  return {
    baseUrl,
    request,
    get: (path, options) => request('GET', path, options),
    post: (path, body, options) => request('POST', path, { ...options, body }),
    put: (path, body, options) => request('PUT', path, { ...options, body }),
    /** EventSource cannot send headers: the stream route alone takes ?access_token=. */
    streamUrl(path) {
      const token = getToken();
      return `${baseUrl}${path}${token ? `?access_token=${enc(token)}` : ''}`;
    },
  };
}

/** True for an abort this code asked for (a closed watcher), not a failure to report. */
export function isAbort(error) {
  return error?.name === 'AbortError';
}
