// watchExecution(): the seed's useWorkflowExecution as a framework-free object.
//
//   const watch = watchExecution(workspaceId, workflowId, executionId, { enableSSE: true });
//   const unsubscribe = watch.subscribe((state, change) => render(state, change));
//   ... watch.cancelExecution(); watch.retryStep('charge'); ...
//   watch.close();   // closes the stream, clears every timer, aborts what is in flight
//
// Live updates: with enableSSE an EventSource (?access_token=) follows the execution; the browser
// resumes a dropped stream with Last-Event-ID by itself. When the stream fails (it cannot open,
// or a reconnection fails), the watch polls GET with If-None-Match every pollingInterval ms.
// Without enableSSE it polls when enablePolling. Both stop at a terminal status and pause while
// the tab is hidden (on return: one fresh read, then live again).
import { createApi, isAbort, paths } from './api.js';
import { isNewer, isRunning, mergeUpdate } from './execution-state.js';
import { Poller, pageIsHidden } from './poller.js';
import { isTerminal } from './status.js';

export const DEFAULT_OPTIONS = Object.freeze({
  enablePolling: true,
  pollingInterval: 2000,
  enableSSE: false,
  autoRefreshOnComplete: true,
});

// No snapshot this long after opening a stream: read the execution once so the view never waits
// on a connection that neither opens nor fails.
const FIRST_VIEW_GRACE_MS = 3000;

export function watchExecution(workspaceId, workflowId, executionId, options = {}) {
  return new ExecutionWatch(workspaceId, workflowId, executionId, options);
}

export class ExecutionWatch {
  constructor(workspaceId, workflowId, executionId, options = {}) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    this.ids = { workspaceId, workflowId, executionId };
    this.api = options.api ?? createApi({ baseUrl: options.baseUrl, getToken: options.getToken });
    this.path = paths.execution(workspaceId, workflowId, executionId);
    this.EventSource = options.EventSource ?? globalThis.EventSource;
    this.listeners = new Set();
    this.snapshot = buildSnapshot(null, true, null);
    this.etag = null;
    this.source = null;
    this.streamFailed = false;
    this.graceTimer = null;
    this.reads = new Set(); // AbortControllers of reads in flight
    this.pendingRead = null;
    this.endReported = false;
    this.halted = false; // after a 401/404 read: nothing follows until a read succeeds again
    this.closed = false;
    this.poller = new Poller((signal) => this.read(signal), this.options.pollingInterval, {
      onError: (error) => this.fail(error),
    });
    this.onVisibility = () => this.visibilityChanged();
    document.addEventListener('visibilitychange', this.onVisibility);
    if (!pageIsHidden()) this.goLive({ firstView: true });
  }

  // --- the seed's return values -------------------------------------------------------------
  get execution() { return this.snapshot.execution; }
  get isLoading() { return this.snapshot.isLoading; }
  get error() { return this.snapshot.error; }
  get progress() { return this.snapshot.progress; }
  get isRunning() { return this.snapshot.isRunning; }
  get canCancel() { return this.snapshot.canCancel; }
  get canRetry() { return this.snapshot.canRetry; }

  getActionResult(actionId) {
    return this.execution?.actionResults?.find((step) => step.actionId === actionId) ?? null;
  }

  /** The current state as one immutable object (React: useSyncExternalStore(subscribe, getSnapshot)). */
  getSnapshot = () => this.snapshot;

  /** listener(snapshot, change) on every change; change.changedActionIds lists patched steps (null: all). */
  subscribe = (listener) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  async refreshExecution() {
    try {
      await this.read();
    } catch (error) {
      if (!isAbort(error)) this.fail(error);
    }
  }

  async cancelExecution() {
    return this.command(async () => {
      const { body } = await this.api.post(`${this.path}/cancel`);
      this.accept(body.execution);
      return true;
    }, false);
  }

  async retryStep(actionId) {
    return this.command(async () => {
      const { body } = await this.api.post(`${this.path}/retry-step`, { actionId });
      this.endReported = false;
      this.accept(body.execution);
      this.goLive();
      return true;
    }, false);
  }

  /** Starts a new execution (same input and definition); resolves to it, or null on failure. */
  async retryExecution() {
    return this.command(async () => {
      const { body } = await this.api.post(`${this.path}/retry`);
      this.refreshExecution(); // this one now names its retry (retriedBy)
      return body.execution;
    }, null);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.stopLive();
    for (const controller of this.reads) controller.abort();
    this.reads.clear();
    this.listeners.clear();
  }

  // --- live updates --------------------------------------------------------------------------
  goLive({ firstView = false } = {}) {
    if (this.closed || this.halted || pageIsHidden()) return;
    if (this.snapshot.execution && isTerminal(this.snapshot.execution.status)) return;
    if (this.options.enableSSE && this.EventSource && !this.streamFailed) this.openStream(firstView);
    else if (this.options.enablePolling || this.options.enableSSE) this.poller.start();
    else if (firstView) this.refreshExecution();
  }

  stopLive() {
    this.closeStream();
    this.poller.stop();
  }

  openStream(firstView) {
    if (this.source) return;
    const source = new this.EventSource(this.api.streamUrl(`${this.path}/stream`));
    this.source = source;
    let openedSinceError = false;
    source.addEventListener('open', () => {
      openedSinceError = true;
    });
    source.addEventListener('snapshot', (event) => this.accept(JSON.parse(event.data).execution));
    source.addEventListener('update', (event) => this.applyUpdate(JSON.parse(event.data)));
    source.addEventListener('end', () => {
      this.closeStream();
      // The last update carried the terminal status; read once if we somehow missed it.
      if (!isTerminal(this.snapshot.execution?.status)) this.refreshExecution();
    });
    source.addEventListener('error', () => {
      if (source.readyState !== source.CLOSED && openedSinceError) {
        openedSinceError = false; // the server ended a stream it served: the browser reconnects
        return;
      }
      this.closeStream();
      this.streamFailed = true;
      this.goLive();
    });
    if (firstView) {
      this.graceTimer = setTimeout(() => {
        this.graceTimer = null;
        if (!this.snapshot.execution) this.refreshExecution();
      }, FIRST_VIEW_GRACE_MS);
    }
  }

  closeStream() {
    clearTimeout(this.graceTimer);
    this.graceTimer = null;
    this.source?.close();
    this.source = null;
  }

  visibilityChanged() {
    if (this.closed) return;
    if (pageIsHidden()) {
      this.closeStream(); // the poller pauses itself
      return;
    }
    this.streamFailed = false; // back in view: give the stream another chance
    if (this.options.enableSSE) this.poller.stop();
    this.goLive({ firstView: !this.snapshot.execution }); // opened in a background tab: load now
  }

  // --- reading and applying ------------------------------------------------------------------
  /** One GET with If-None-Match; concurrent callers share it. */
  read(signal) {
    if (this.pendingRead) return this.pendingRead;
    const controller = new AbortController();
    signal?.addEventListener('abort', () => controller.abort(), { once: true });
    this.reads.add(controller);
    this.pendingRead = this.api
      .get(this.path, { etag: this.etag, signal: controller.signal })
      .then(({ status, etag, body }) => {
        if (status !== 304) {
          this.etag = etag;
          this.accept(body.execution);
        } else if (this.snapshot.error) {
          this.publish({ error: null }, { changedActionIds: [] });
        }
      })
      .finally(() => {
        this.reads.delete(controller);
        this.pendingRead = null;
      });
    return this.pendingRead;
  }

  accept(execution) {
    if (this.closed || !execution) return;
    if (!isNewer(this.snapshot.execution, execution)) return;
    this.halted = false;
    this.publish({ execution, error: null }, { changedActionIds: null, via: 'read' });
  }

  applyUpdate(update) {
    const merged = mergeUpdate(this.snapshot.execution, update);
    if (merged) {
      this.publish(
        { execution: merged.execution, error: null },
        { changedActionIds: merged.changedActionIds, via: 'update' },
      );
    }
  }

  /** A failed read: reported; 401 and 404 also stop following (polling cannot fix them). */
  fail(error) {
    if (this.closed) return;
    if (error?.status === 401 || error?.status === 404) {
      this.halted = true;
      this.stopLive();
    }
    this.report(error);
  }

  report(error) {
    this.publish({ error }, { changedActionIds: [] });
    this.options.onError?.(error);
  }

  /** A command's failure is reported (`error`) and resolves to `failed`; following goes on. */
  async command(action, failed) {
    try {
      return await action();
    } catch (error) {
      if (!this.closed && !isAbort(error)) this.report(error);
      return failed;
    }
  }

  publish(changes, change) {
    if (this.closed) return;
    const previous = this.snapshot.execution;
    const execution = 'execution' in changes ? changes.execution : previous;
    const error = 'error' in changes ? changes.error : this.snapshot.error;
    this.snapshot = buildSnapshot(execution, false, error);
    const becameTerminal = execution && isTerminal(execution.status) && !this.endReported;
    if (becameTerminal) this.endReported = true;
    if (execution && !isTerminal(execution.status)) this.endReported = false;
    for (const listener of [...this.listeners]) listener(this.snapshot, { ...change, previous });
    this.options.onChange?.(this.snapshot);
    if (becameTerminal) this.finish(execution, previous, change.via);
    else if (execution && isRunning(execution) && !this.source && !this.poller.running) this.goLive();
  }

  /** Terminal: stop following; callbacks fire only for an end seen live, not for a finished one opened. */
  finish(execution, previous, via) {
    this.stopLive();
    // An update carries only what changed: read the whole final record once.
    if (this.options.autoRefreshOnComplete && via === 'update') this.refreshExecution();
    if (!previous || isTerminal(previous.status)) return;
    if (execution.status === 'cancelled') this.options.onCancel?.(execution);
    else this.options.onComplete?.(execution);
  }
}

function buildSnapshot(execution, isLoading, error) {
  return Object.freeze({
    execution,
    isLoading,
    error,
    progress: execution?.progress ?? null,
    isRunning: isRunning(execution),
    canCancel: Boolean(execution?.canCancel),
    canRetry: Boolean(execution?.canRetry),
  });
}
