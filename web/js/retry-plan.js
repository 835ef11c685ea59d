// "What will a retry do?": GET …/retry-plan (DESIGN "More read routes"), shown in the confirm
// dialog. When the server has no plan to give (older server, network trouble), the dialog shows
// the same facts worked out from the execution on the page, and says so.
//
// The answer: {"plan": {"kind": "execution"|"step", "actionId": "…"|null, "definitionVersion": 3,
//   "rerun": [{"actionId", "name", "actionType", "status", "attempts"}…],
//   "kept": [{"actionId", "name", "completedAt", "duration"}…], "estimatedDuration": 4200|null}}.
// kind "execution" starts a new execution (retry); "step" resumes this one (retry-step).
import { isAbort } from './api.js';
import { html } from './dom.js';
import { localRetryPlan } from './execution-state.js';
import { formatDuration } from './format.js';

const LISTED_STEPS = 8;

export async function loadRetryPlan(api, executionPath, execution, actionId, signal) {
  const query = actionId ? `?actionId=${encodeURIComponent(actionId)}` : '';
  try {
    const { body } = await api.get(`${executionPath}/retry-plan${query}`, { signal });
    if (body?.plan) return { plan: body.plan, source: 'server' };
    return { plan: localRetryPlan(execution, actionId ?? null), source: 'local', reason: 'the answer had no plan' };
  } catch (error) {
    if (isAbort(error)) throw error;
    if (error.status === 409) return { plan: null, source: 'server', reason: error.message };
    return { plan: localRetryPlan(execution, actionId ?? null), source: 'local', reason: error.message };
  }
}

function stepLabel(step, names) {
  const id = typeof step === 'string' ? step : step.actionId;
  const name = (typeof step === 'object' && step.name) || names.get(id);
  return name && name !== id ? `${name} (${id})` : id;
}

function stepList(steps, names) {
  if (steps.length <= LISTED_STEPS) return html`<ul class="plan-steps">${steps.map((step) => html`<li>${stepLabel(step, names)}</li>`)}</ul>`;
  const head = steps.slice(0, LISTED_STEPS - 2);
  const tail = steps.slice(-2);
  return html`<ul class="plan-steps">${head.map((step) => html`<li>${stepLabel(step, names)}</li>`)}<li>… ${steps.length - head.length - tail.length} more …</li>${tail.map((step) => html`<li>${stepLabel(step, names)}</li>`)}</ul>`;
}

export function renderRetryPlan({ plan, source, reason }, execution) {
  if (!plan) return html`<p class="plan-refused">The server will not retry this now: ${reason}</p>`;
  const names = new Map((execution?.actionResults ?? []).map((step) => [step.actionId, step.name]));
  const rerun = plan.rerun ?? [];
  const keep = plan.kept ?? [];
  return html`
    <p>${plan.kind === 'execution' ? 'Starts a new execution linked to this one, with the same input.' : 'Continues this execution from the chosen step.'}</p>
    <dl class="plan-facts">
      <dt>Runs again</dt><dd>${rerun.length} ${rerun.length === 1 ? 'step' : 'steps'}${stepList(rerun, names)}</dd>
      <dt>Keeps its result</dt><dd>${keep.length ? html`${keep.length} ${keep.length === 1 ? 'step' : 'steps'}${stepList(keep, names)}` : 'No step: every step runs again'}</dd>
      ${plan.definitionVersion ? html`<dt>Definition</dt><dd>Workflow version ${plan.definitionVersion}</dd>` : ''}
      ${plan.estimatedDuration ? html`<dt>Estimated duration</dt><dd>About ${formatDuration(plan.estimatedDuration)}</dd>` : ''}
    </dl>
    ${source === 'local' ? html`<p class="plan-source">Worked out from this page: the server’s retry plan is not available (${reason}).</p>` : ''}`;
}
