// The visit's checklist on the phone: engine.js (the same rules as the server's Python engine,
// kept equal by tests/browser/test_engine_crosscheck.py) decides what comes next, offline.
// This module only adapts its interface to the app; it has no rules of its own.
import { evaluate as evaluateTemplate, validateAnswer, stepsOf } from "./engine.js";

// id -> the step with the phase or outcome it belongs to, in template order.
export function steps(template) {
  const all = new Map();
  for (const [id, entry] of stepsOf(template)) {
    all.set(id, { ...entry.step, phase: entry.phase, outcome: entry.outcome });
  }
  return all;
}

// answers: {step_id: {step_id, value?, photo_ids?, answered_at?, location?}}.
export function evaluate(template, answers, { lang = "ru", site = null, outcome = null, contentHash = null } = {}) {
  return evaluateTemplate(template, answers, { lang, site, outcome, contentHash });
}

// null when the server will accept `answer` on top of `answers`, else {code, step_id, message}.
export function check(template, answers, answer, { lang = "ru", site = null, outcome = null } = {}) {
  return validateAnswer(template, answers, answer, { lang, site, outcome });
}
