"""The phone's checklist engine (mobile_api/app/static/engine.js) agrees with the server's.

Seeded random answer sequences (tests/browser/engine_walks.py) for every template in
checklists/templates, every version, and for a probe template using the whole condition
language, run through the Python engine and through engine.js in Debian's Chromium. The whole
state must be equal, field for field: next steps, blocking reasons (codes, step ids, messages in
the sequence's language), allowed outcomes, the outcome in effect, rejected answers, flags and
compliance. validate_answer (and checkStepAnswer) are compared on one more answer per sequence.
Edge cases where the languages part ways are kept as fixed regression sequences.

The sequences reach the page from a local HTTP server and the page posts engine.js's results back
(page.evaluate arguments are slow for megabytes); Python compares, while its own engine ran in a
thread alongside Chromium.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import msgspec
import pytest
from playwright.async_api import Browser

from checklists import (
    ChecklistState,
    CompiledTemplate,
    UnknownOutcome,
    compile_template,
    evaluate,
    load_template_file,
    load_templates,
)
from checklists.messages import CATALOG
from tests.browser.engine_walks import (
    COMPARED,
    SEED,
    SITE,
    PythonRun,
    Walker,
    pooled,
    template_json,
)

pytestmark = pytest.mark.browser

ENGINE = Path(__file__).resolve().parents[2] / "mobile_api" / "app" / "static" / "engine.js"
SEQUENCES_PER_TEMPLATE = 2_000
# States compared per sequence: one part-way through, and the last.
CHECKPOINTS = 2
# validate_answer's codes that depend on the other answers (checkStepAnswer does not look).
CONTEXT_CODES = {"unknown_step", "step_hidden", "phase_locked", "outcome_not_declared"}
# Every shipped template and version, and a probe that uses the whole condition language.
PROBE = Path(__file__).with_name("engine_probe.v1.yaml")
TEMPLATES = [
    *sorted(load_templates(), key=lambda t: (t.key, t.version)),
    compile_template(load_template_file(PROBE)),
]

# The page fetches the sequences, runs each state through engine.js and posts the results back.
RUN = """
async ([dataUrl, resultsUrl, contentHash]) => {
  const engine = await import("/engine.js");
  const data = await (await fetch(dataUrl)).json();
  const template = data.template;
  const states = [];
  const validations = [];
  const checks = [];
  const steps = engine.stepsOf(template);
  for (const sequence of data.sequences) {
    const options = { lang: sequence.lang, site: sequence.site };
    const answersOf = (state) => Object.fromEntries(
      Object.entries(state.answers).map(([key, ref]) => [key, sequence.pool[ref]]));
    states.push(sequence.states.map((state) => engine.evaluate(
      template, answersOf(state), { ...options, outcome: state.outcome, contentHash })));
    const last = sequence.states.at(-1);
    const candidate = sequence.candidate;
    validations.push(candidate === null ? null : engine.validateAnswer(
      template, answersOf(last), candidate, { ...options, outcome: last.outcome }));
    const step = candidate === null ? undefined : steps.get(candidate.step_id);
    checks.push(step === undefined ? null : engine.checkStepAnswer(step.step, candidate, options));
  }
  const response = await fetch(resultsUrl, {
    method: "POST", body: JSON.stringify({ states, validations, checks }),
  });
  return response.status;
}
"""


Served = dict[str, tuple[bytes, str]]


class _Files(ThreadingHTTPServer):
    files: Served


class _Handler(BaseHTTPRequestHandler):
    server: _Files

    def do_GET(self) -> None:
        body, kind = self.server.files.get(
            self.path, (b"<!doctype html><title>engine</title>", "text/html")
        )
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.server.files[self.path] = (self.rfile.read(length), "application/json")
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def files() -> Iterator[tuple[str, Served]]:
    """A local HTTP server for engine.js and the sequences (the page fetches them)."""
    server = _Files(("127.0.0.1", 0), _Handler)
    server.files = {"/engine.js": (ENGINE.read_bytes(), "text/javascript")}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.files
    server.shutdown()
    server.server_close()


def differences(python: Any, js: Any, path: str = "", *, order: bool = False) -> Iterator[str]:
    """Where two decoded JSON values differ (1.0 is 1); with `order`, object keys' order too."""
    if isinstance(python, dict) and isinstance(js, dict):
        if order and list(python) != list(js):
            yield f"{path}: keys in order {list(python)} (python), {list(js)} (js)"
        for key in {**python, **js}:
            if key not in python or key not in js:
                left, right = python.get(key, "<absent>"), js.get(key, "<absent>")
                yield f"{path}.{key}: python {left!r}, js {right!r}"
            else:
                yield from differences(python[key], js[key], f"{path}.{key}", order=order)
    elif isinstance(python, list) and isinstance(js, list) and len(python) == len(js):
        for index, (left, right) in enumerate(zip(python, js, strict=True)):
            yield from differences(left, right, f"{path}[{index}]", order=order)
    elif python != js:
        yield f"{path}: python {python!r}, js {js!r}"


class Results(msgspec.Struct):
    """What the page posts back: engine.js's states, validateAnswer and checkStepAnswer."""

    states: list[list[ChecklistState]]
    validations: list[dict[str, Any] | None]
    checks: list[dict[str, Any] | None]


def python_side(
    template: CompiledTemplate, sequences: list[Any]
) -> list[tuple[list[ChecklistState], Any | None]]:
    """Every sequence through the Python engine: (states, validate_answer's verdict)."""
    runs = [PythonRun(template, sequence) for sequence in sequences]
    return [(run.states(), run.validation()) for run in runs]


def as_json(value: Any) -> Any:
    """A value as the server's JSON decodes (lists, key order of the struct)."""
    return msgspec.json.decode(msgspec.json.encode(value))


async def compare(
    browser: Browser,
    files: tuple[str, Served],
    template: CompiledTemplate,
    sequences: list[Any],
    *,
    order: bool = False,
) -> tuple[int, int, list[str]]:
    """Run `sequences` through both engines: (states compared, validations compared, differences).

    The Python engine works in a thread while Chromium runs engine.js, so the two overlap.
    engine.js's states are decoded as the server's ChecklistState (so every field must be
    there, with its type) and compared with the Python engine's; with `order`, they are also
    compared as plain JSON, where every object's keys (no more, no fewer) must come in the
    server's order.
    """
    origin, served = files
    name = f"{template.key}-{template.version}-{id(sequences)}"
    data = {"template": template_json(template), "sequences": sequences}
    served[f"/data/{name}"] = (msgspec.json.encode(data), "application/json")
    page = await browser.new_page()
    try:
        await page.goto(f"{origin}/")
        status, python = await asyncio.gather(
            page.evaluate(RUN, [f"/data/{name}", f"/results/{name}", template.content_hash]),
            asyncio.to_thread(python_side, template, sequences),
        )
    finally:
        await page.close()
        served.pop(f"/data/{name}")
    assert status == 204
    body = served.pop(f"/results/{name}")[0]
    results = msgspec.json.decode(body, type=Results)
    plain = msgspec.json.decode(body)["states"] if order else results.states
    found: list[str] = []
    states = validations = 0
    for index, (
        (expected, expected_validation),
        js_states,
        js_plain,
        js_validation,
        js_check,
    ) in enumerate(
        zip(python, results.states, plain, results.validations, results.checks, strict=True)
    ):
        states += len(expected)
        mismatch = expected != js_states
        if order and not mismatch:
            mismatch = any(differences(as_json(expected), js_plain, order=True))
        if mismatch:
            found.extend(
                f"sequence {index}{where}"
                for where in differences(as_json(expected), as_json(js_plain), order=order)
            )
            found.append(
                f"sequence {index}: {json.dumps(sequences[index], ensure_ascii=False)[:2000]}"
            )
        if sequences[index]["candidate"] is not None:
            validations += 1
            if expected_validation != js_validation:
                found.append(
                    f"sequence {index} validate_answer: python {expected_validation!r}, "
                    f"js {js_validation!r}"
                )
            # checkStepAnswer is validate_answer without the gates and conditions.
            code = expected_validation["code"] if expected_validation else None
            if code not in CONTEXT_CODES and js_check != expected_validation:
                found.append(
                    f"sequence {index} checkStepAnswer: python {expected_validation!r}, "
                    f"js {js_check!r}"
                )
    return states, validations, found


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: f"{t.key}@{t.version}")
async def test_random_sequences_agree(
    browser: Browser,
    files: tuple[str, Served],
    template: CompiledTemplate,
    request: pytest.FixtureRequest,
) -> None:
    rng = random.Random(f"{SEED}:{template.key}@{template.version}")
    walker = Walker(template_json(template), rng)
    sequences = [walker.sequence(CHECKPOINTS - 1) for _ in range(SEQUENCES_PER_TEMPLATE)]
    states, validations, found = await compare(browser, files, template, sequences)
    assert found == [], "\n".join(found[:12])
    assert validations == SEQUENCES_PER_TEMPLATE
    assert states == CHECKPOINTS * SEQUENCES_PER_TEMPLATE
    compared = request.config.stash.setdefault(COMPARED, {})
    compared[f"{template.key}@{template.version}"] = (len(sequences), states, validations)


async def test_messages_are_the_servers(browser: Browser, files: tuple[str, Served]) -> None:
    page = await browser.new_page()
    try:
        await page.goto(f"{files[0]}/")
        messages = await page.evaluate('async () => (await import("/engine.js")).MESSAGES')
    finally:
        await page.close()
    assert messages == CATALOG


async def test_unknown_outcome_is_refused_as_the_server_refuses_it(
    browser: Browser, files: tuple[str, Served]
) -> None:
    template = TEMPLATES[0]
    with pytest.raises(UnknownOutcome):
        evaluate(template, {}, outcome="vanished")  # type: ignore[arg-type]
    page = await browser.new_page()
    try:
        await page.goto(f"{files[0]}/")
        refused = await page.evaluate(
            """async (template) => {
              const engine = await import("/engine.js");
              const refusals = [];
              for (const call of [
                () => engine.evaluate(template, {}, { outcome: "vanished" }),
                () => engine.validateAnswer(template, {}, { step_id: "greeting", value: true },
                                            { outcome: "vanished" }),
              ]) {
                try { call(); refusals.push(null); } catch (error) { refusals.push(error.name); }
              }
              return refusals;
            }""",
            template_json(template),
        )
    finally:
        await page.close()
    assert refused == ["UnknownOutcome", "UnknownOutcome"]


def happy_answers(tpl: dict[str, Any], until: str) -> dict[str, Any]:
    """Valid answers to every phase step before `until` (adults present, at the site)."""
    values = {
        "confirm": True,
        "yes_no": True,
        "text": "ok",
        "person_name": "Айгерим",
        "signature": "s",
    }
    answers: dict[str, Any] = {}
    for phase in tpl["phases"]:
        for step in phase["steps"]:
            if step["id"] == until:
                return answers
            answer: dict[str, Any] = {"step_id": step["id"], "value": values.get(step["kind"])}
            if step["kind"] == "choice":
                answer["value"] = step["options"][0]["value"]
            elif step["kind"] == "number":
                answer["value"] = step.get("min", 0)
            elif step["kind"] == "photo":
                answer["photo_ids"] = ["p1"]
            elif step["kind"] == "geo_check":
                answer["location"] = dict(SITE)
            elif step["kind"] == "serial":
                answer["value"] = [{"value": "SN1", "method": "typed"}]
            answers[step["id"]] = answer
    return answers


def _answer(step_id: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    return {"step_id": step_id, "value": value, **extra}


def _at(metres: float) -> dict[str, float]:
    return {"lat": SITE["lat"] + metres / 111_195.08, "lon": SITE["lon"]}


# Edge cases where Python and JavaScript part ways unless engine.js is careful, each as
# (the step it is about, answers given after the happy answers before that step, outcome).
REGRESSIONS: dict[str, list[tuple[str, dict[str, Any], str | None]]] = {
    # Python's str.strip() and JS's trim() disagree on U+FEFF and U+001C..U+001F and U+0085;
    # len() counts code points, JS .length UTF-16 units.
    "whitespace and length": [
        ("acceptor_name", {"acceptor_name": _answer("acceptor_name", text)}, None)
        for text in ("\ufeff", "\x1c\x1d\x1e\x1f\x85", "\u3000", "😀" * 200, "😀" * 201, 7)
    ],
    # %g formatting with half-even ties (100000.5 prints as 100000), exponents, -0.5.
    "numbers in messages": [
        ("meter_reading", {"meter_reading": _answer("meter_reading", value)}, None)
        for value in (100000.5, -0.5, -0.000012345, 1e21 + 1e6, 1234567.25, 999999.995, True)
    ],
    # The probe: bounds with decimals, gate values with units, conditions on both sides.
    "number bounds": [
        ("temperature", {"temperature": _answer("temperature", value)}, None)
        for value in (-40.75, -40.5, 60.0000001, 1e-5, -10.5, 45.5, 20, 19.999999)
    ],
    # The distance is rounded to 0.1 m half to even, then compared with the radius.
    "radius boundary": [
        ("geo_arrival", {"geo_arrival": _answer("geo_arrival", location=_at(metres))}, None)
        for metres in (299.95, 300.0, 300.05, 300.25, 350.5, 1e6)
    ]
    + [
        (
            "geo_arrival",
            {"geo_arrival": _answer("geo_arrival", location={**_at(5), "accuracy_m": accuracy})},
            None,
        )
        for accuracy in (300, 300.5, 1234.5678, 0)
    ],
    # Microsecond order, offsets, naive stamps; a later step answered before an earlier phase.
    "timestamps": [
        (
            "adult_present",
            {
                "adult_present": _answer(
                    "adult_present", True, answered_at="2026-12-05T10:00:00.000002+06:00"
                ),
                "acceptor_name": _answer(
                    "acceptor_name", "Ли", answered_at="2026-12-05T04:00:00.000001Z"
                ),
                "overshoes_on": _answer("overshoes_on", True, answered_at="2026-12-05T10:00:00"),
                "invited_in": _answer(
                    "invited_in", True, answered_at="2026-12-05T04:00:00.000002+00:00"
                ),
            },
            None,
        )
    ],
    # Unknown keys are reported sorted by code point; a key naming another step is rejected.
    "unknown and mismatched keys": [
        (
            "greeting",
            {
                "zz": _answer("zz", True),
                "étape": _answer("étape", True),
                "Z": _answer("Z", True),
                "greeting": _answer("show_id", True),
            },
            None,
        )
    ],
    # Outcomes: waiting for an adult holds automatically; a declared outcome lacks its steps.
    "outcomes": [
        ("adult_present", {"adult_present": _answer("adult_present", False)}, None),
        ("adult_present", {"adult_present": _answer("adult_present", False)}, "completed"),
        ("adult_present", {"adult_present": _answer("adult_present", False)}, "no_access"),
        ("greeting", {}, "needs_revisit"),
        ("greeting", {"revisit_reason": _answer("revisit_reason", "other")}, "needs_revisit"),
        # Found by the cross-check: the incident's keys came in the template's sorted order.
        ("greeting", {}, "aborted_safety"),
    ],
}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: f"{t.key}@{t.version}")
async def test_regression_sequences_agree(
    browser: Browser, files: tuple[str, Served], template: CompiledTemplate
) -> None:
    tpl = template_json(template)
    known = {step["id"] for phase in tpl["phases"] for step in phase["steps"]}
    sequences = []
    for cases in REGRESSIONS.values():
        for until, given, outcome in cases:
            if until not in known:
                continue
            state = {"answers": {**happy_answers(tpl, until), **given}, "outcome": outcome}
            candidate = next(iter(given.values()), None)
            for lang in ("ru", "kk", "en"):
                for site in (SITE, None):
                    sequences.append(pooled(lang, site, [state], candidate))
    compared, _, found = await compare(browser, files, template, sequences, order=True)
    assert found == [], "\n".join(found[:12])
    assert compared == len(sequences) > 0
