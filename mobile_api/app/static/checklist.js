// The visit's checklist state, computed on the phone by engine.js (the same rules as the
// server's Python engine; a cross-check test keeps them equal). This module only adapts it.
let engine = null;
let tried = false;

async function load() {
  if (!tried) {
    tried = true;
    try {
      engine = await import("./engine.js");
    } catch {
      engine = null;
    }
  }
  return engine;
}

export function steps(template) {
  const all = new Map();
  for (const phase of template.phases || []) {
    for (const step of phase.steps || []) all.set(step.id, { ...step, phase: phase.id });
  }
  for (const outcome of template.outcomes || []) {
    for (const step of outcome.steps || []) all.set(step.id, { ...step, outcome: outcome.id });
  }
  return all;
}

// answers: {step_id: {step_id, value, photo_ids, answered_at, location}}.
export async function evaluate(template, answers, { lang = "ru", site = null, outcome = null } = {}) {
  const module = await load();
  if (module && typeof module.evaluate === "function") {
    return module.evaluate(template, answers, { lang, site, outcome });
  }
  return linear(template, answers, outcome);
}

// Only until engine.js is present: template order, no conditions or gates (the server decides).
function linear(template, answers, outcome) {
  const pendingSteps = [];
  for (const phase of template.phases || []) {
    for (const step of phase.steps || []) {
      if (step.required !== false && !answers[step.id]) pendingSteps.push(step.id);
    }
    if (pendingSteps.length) break;
  }
  const outcomes = (template.outcomes || []).map((o) => o.id);
  return {
    engine: "linear",
    next_required_steps: pendingSteps,
    visible_steps: [...steps(template).keys()],
    answered_steps: Object.keys(answers),
    completion_allowed: pendingSteps.length === 0,
    allowed_outcomes: outcomes,
    outcome,
    blocking_reasons: [],
  };
}
