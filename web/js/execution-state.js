// Pure functions over the API's execution JSON: how SSE updates merge, what may be retried.
import { isTerminal } from './status.js';

/**
 * Applies an SSE `update` (execution fields without actionResults, plus changedActionResults) to
 * the current execution. Returns { execution, changedActionIds } or null when the update is not
 * newer than what we hold (a poll and the stream can deliver the same version twice).
 */
export function mergeUpdate(current, update) {
  if (!current || update.version <= current.version) return null;
  const { changedActionResults = [], ...fields } = update;
  const actionResults = current.actionResults ? current.actionResults.slice() : [];
  const changedActionIds = [];
  let index = null;
  for (const step of changedActionResults) {
    index ??= new Map(actionResults.map((result, position) => [result.actionId, position]));
    const position = index.get(step.actionId);
    if (position === undefined) actionResults.push(step);
    else actionResults[position] = step;
    changedActionIds.push(step.actionId);
  }
  return { execution: { ...current, ...fields, actionResults }, changedActionIds };
}

/** Whether `next` should replace `current` (never go back to an older version). */
export function isNewer(current, next) {
  return !current || current.id !== next.id || next.version >= current.version;
}

/**
 * The steps that offer "Retry step": a failed execution's failed steps; for a cancelled one the
 * step it stopped at (the first step not completed), which retry-step resumes from.
 */
export function retryableSteps(execution) {
  const steps = execution?.actionResults ?? [];
  if (execution?.status === 'failed') return steps.filter((step) => step.status === 'failed');
  if (execution?.status === 'cancelled') {
    const resumeAt = steps.find((step) => step.status !== 'completed');
    return resumeAt ? [resumeAt] : [];
  }
  return [];
}

export function isRunning(execution) {
  return Boolean(execution) && !isTerminal(execution.status);
}

/**
 * What a retry would do, worked out from the execution alone: the fallback when the server's
 * retry plan is not available. `actionId` null means the whole execution.
 */
export function localRetryPlan(execution, actionId = null) {
  const steps = execution?.actionResults ?? [];
  if (actionId === null) {
    return {
      kind: 'execution',
      actionId: null,
      definitionVersion: execution?.workflowVersion ?? null,
      rerun: steps,
      kept: [],
      estimatedDuration: null,
    };
  }
  const from = Math.max(0, steps.findIndex((step) => step.actionId === actionId));
  return {
    kind: 'step',
    actionId,
    definitionVersion: execution?.workflowVersion ?? null,
    rerun: steps.slice(from),
    kept: steps.slice(0, from),
    estimatedDuration: null,
  };
}
