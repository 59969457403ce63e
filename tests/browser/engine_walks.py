"""Seeded random answer sequences for the engine cross-check (Python engine vs engine.js).

A sequence is what a technician's phone goes through on one visit: answers given mostly in
template order, some wrong (every kind of invalid value), some replaced or taken back, some
given to hidden, locked or unknown steps, positions near and far from the site, an outcome
declared now and then. Every sequence is a list of checkpoints (answers, declared outcome) and
one more answer to validate; both engines evaluate each and must agree exactly.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from checklists import (
    Answer,
    AnswerRejected,
    ChecklistState,
    CompiledTemplate,
    canonical_json,
    evaluate,
    validate_answer,
)
from checklists.schema import GeoPoint

SEED = 20261205
SITE = {"lat": 43.238949, "lon": 76.889709}  # Almaty
LANGS = ("ru", "kk", "en")
START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
# One metre of latitude in degrees (the engine's Earth radius).
DEG_PER_M = 1 / 111_195.08

JSON = dict[str, Any]
# What the cross-check compared in this run, per template ("key@version": (sequences, states,
# validations)); the terminal summary prints it (tests/browser/conftest.py).
COMPARED: pytest.StashKey[dict[str, tuple[int, int, int]]] = pytest.StashKey()


def template_json(template: CompiledTemplate) -> JSON:
    """The template exactly as the phone receives it in the day bundle."""
    result: JSON = msgspec.json.decode(canonical_json(template.template))
    return result


def all_steps(tpl: JSON) -> list[JSON]:
    """Every step in template order: phases first, then outcome steps."""
    steps = [step for phase in tpl["phases"] for step in phase["steps"]]
    steps += [step for outcome in tpl["outcomes"] for step in outcome.get("steps", [])]
    return steps


class Walker:
    """Random answers for one template."""

    def __init__(self, tpl: JSON, rng: random.Random) -> None:
        self.tpl = tpl
        self.rng = rng
        self.steps = all_steps(tpl)
        self.phase_steps = [step for phase in tpl["phases"] for step in phase["steps"]]
        self.outcomes = [outcome["id"] for outcome in tpl["outcomes"]]
        # Numbers the conditions and gates compare with: answers at, around and between them.
        sources = [step.get("visible_when") or "" for step in self.steps]
        sources += [outcome.get("auto_when") or "" for outcome in tpl["outcomes"]]
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", " ".join(sources))]
        for holder in (*tpl["phases"], *tpl["outcomes"]):
            for requirement in holder.get("gate", []):
                equals = requirement.get("equals")
                if isinstance(equals, (int, float)) and not isinstance(equals, bool):
                    numbers.append(equals)
        self.numbers = sorted({n + d for n in numbers for d in (-0.5, 0, 0.5)})
        self.clock = START

    # ------------------------------------------------------------------ evidence

    def stamp(self, *, valid: bool) -> str | None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            return None
        # Mostly forward in time, sometimes back (out of order), sometimes the same instant.
        step = rng.choice((0, 1, 7, 60, 61, 600, -30, -3600, 0.000001, 0.001))
        self.clock += timedelta(seconds=step)
        if not valid and roll < 0.2:
            return self.clock.replace(tzinfo=None).isoformat()  # naive: rejected
        if roll < 0.4:
            zone = rng.choice((5, 6, -3, 0))
            return self.clock.astimezone(timezone(timedelta(hours=zone))).isoformat()
        return self.clock.isoformat().replace("+00:00", "Z")

    def location(self, radius: float | None = None) -> JSON | None:
        rng = self.rng
        if rng.random() < 0.25:
            return None
        metres = rng.choice(
            (0.0, 10.0, 150.0, 299.0, 299.96, 300.0, 300.04, 301.0, 350.5, 2500.0, 1e6)
        )
        if radius is not None and rng.random() < 0.5:
            metres = rng.choice((radius - 1, radius, radius + 1, radius * 3))
        location: JSON = {"lat": SITE["lat"] + metres * DEG_PER_M, "lon": SITE["lon"]}
        accuracy = rng.choice((None, None, 5, 12.5, 0, 299.5, 301, 1234.5678))
        if accuracy is not None:
            location["accuracy_m"] = accuracy
        return location

    def photo_ids(self, count: int, *, valid: bool = True) -> list[str]:
        ids = [f"p{self.rng.randrange(10_000)}-{i}" for i in range(count)]
        roll = self.rng.random()
        if valid:
            return ids
        if ids and roll < 0.2:
            ids.append(ids[0])  # duplicate
        elif ids and roll < 0.35:
            ids[-1] = ""
        return ids

    # ------------------------------------------------------------------ values

    def answer(self, step: JSON, *, valid: bool) -> JSON:
        """An answer for `step`: valid by its kind, or one of the ways it can be wrong."""
        rng = self.rng
        kind = step["kind"]
        answer: JSON = {"step_id": step["id"]}
        value: Any = None
        photos: list[str] = []
        location = self.location()
        if kind == "confirm":
            value = True if valid else rng.choice((False, "yes", 1, None))
        elif kind == "yes_no":
            value = rng.random() < 0.8 if valid else rng.choice(("no", 0, None))
            if valid and step["id"] in ("customer_satisfied", "seal_intact"):
                value = rng.random() < 0.6
        elif kind == "choice":
            options = [option["value"] for option in step["options"]]
            value = rng.choice(options) if valid else rng.choice(("nonexistent", 3, True))
        elif kind in ("text", "person_name"):
            limit = step.get("max_length", 2000 if kind == "text" else 200)
            if rng.random() < 0.04:  # at the length limit: code points, not UTF-16 units
                value = rng.choice(
                    ("😀" * limit, "a" * limit, "😀" * (limit + 1), "a" * (limit + 1))
                )
            elif valid:
                value = rng.choice(("Айгерим", "ok", " x ", "\ufeffnote", "😀", "Ли Мин"))
            else:
                value = rng.choice(("", "   ", "\x1c\x1f", "\u3000", "\x85", 12, False))
        elif kind == "number":
            low = step.get("min", 0.0)
            high = step.get("max", 1e6)
            candidates = (low, high, 42, 0.5, 12345.6789, 100000.5, (low + high) / 3, *self.numbers)
            value = (
                rng.choice([n for n in candidates if low <= n <= high] or [low])
                if valid
                else rng.choice(
                    (low - 1, low - 0.000012345, high + 0.5, high + 1e7, 1e21 + 1e6, "5", True)
                )
            )
        elif kind == "photo":
            low, high = step.get("min_count", 1), step.get("max_count", 10)
            count = rng.randint(low, high) if valid else rng.choice((0, high + 1))
            photos = self.photo_ids(count, valid=valid)
            if not valid and rng.random() < 0.3:
                photos, value = self.photo_ids(low), "photo"
        elif kind == "signature":
            value = f"sig-{rng.randrange(1000)}" if valid else rng.choice(("", " \t", 7, None))
        elif kind == "geo_check":
            radius = step.get("radius_m", 300.0)
            location = self.location(radius) or {"lat": SITE["lat"], "lon": SITE["lon"]}
            if not valid:
                if rng.random() < 0.5:
                    location = None
                else:
                    value = "here"
        elif kind == "serial":
            low, high = step.get("min_count", 1), step.get("max_count", 1)
            count = rng.randint(low, high) if valid else rng.choice((0, high + 1, low))
            value = [
                {
                    "value": f"SN{rng.randrange(100_000)}-{i}",
                    "method": rng.choice(("scanned", "typed")),
                }
                for i in range(count)
            ]
            if not valid and count == low:
                if rng.random() < 0.5 and count:
                    value[0]["value"] = rng.choice(("", "  "))
                elif count:
                    value.append({"value": f" {value[0]['value']} ", "method": "typed"})
                else:
                    value = "SN1"
        answer["value"] = value
        if photos or rng.random() < 0.05:
            answer["photo_ids"] = photos or self.photo_ids(1, valid=valid)
        if location is not None:
            answer["location"] = location
        stamp = self.stamp(valid=valid)
        if stamp is not None:
            answer["answered_at"] = stamp
        if answer["value"] is None and rng.random() < 0.3:
            answer.pop("value")  # as a client leaving out a default would send it
        return answer

    # ------------------------------------------------------------------ sequences

    def _stray(self, answers: dict[str, JSON]) -> None:
        """Something off the happy path: any step, a step taken back, a bad key."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            step = rng.choice(self.steps)
            answers[step["id"]] = self.answer(step, valid=rng.random() < 0.7)
        elif roll < 0.7 and answers:
            answers.pop(rng.choice(sorted(answers)))  # taken back
        elif roll < 0.85:
            key = rng.choice(("no_such_step", "zz_extra", "A_upper", "étape"))
            answers[key] = {"step_id": key, "value": True}
        else:
            step = rng.choice(self.steps)
            answers[step["id"]] = self.answer(rng.choice(self.steps), valid=True)  # wrong key

    def sequence(self, checkpoints: int) -> JSON:
        """One visit: the answers evolve; `checkpoints` states part-way are recorded, and the last.

        Half the visits are diligent (every step in order, a wrong answer corrected at once,
        so many reach completion or a declared outcome); the others wander (steps out of
        order, answers taken back, hidden, locked, unknown and mismatched steps).
        """
        rng = self.rng
        self.clock = START + timedelta(minutes=rng.randrange(600))
        answers: dict[str, JSON] = {}
        outcome: str | None = None
        diligent = rng.random() < 0.5
        error_rate = 0.04 if diligent else 0.15
        stray_rate = 0.015 if diligent else 0.28
        cursor = 0
        total = len(self.phase_steps)
        if diligent:
            length = rng.randint(total, total + 6) if rng.random() < 0.7 else rng.randint(3, total)
        else:
            length = rng.randint(3, 2 * total)
        record_at = set(rng.sample(range(length), min(checkpoints, length)))
        states: list[JSON] = []
        for index in range(length):
            roll = rng.random()
            if roll >= stray_rate and cursor < total:
                step = self.phase_steps[cursor]
                cursor += 1
                # An optional step is left out now and then.
                if step.get("required", True) or rng.random() >= 0.4:
                    valid = rng.random() >= error_rate
                    answers[step["id"]] = self.answer(step, valid=valid)
                    if not valid and (diligent or rng.random() < 0.8):
                        answers[step["id"]] = self.answer(step, valid=True)  # corrected
            else:
                self._stray(answers)
                if rng.random() < 0.3:
                    outcome = rng.choice((*self.outcomes, None))
            if index in record_at:
                states.append({"answers": dict(answers), "outcome": outcome})
        # The outcome's own steps, then maybe a declared outcome (completion most often).
        if rng.random() < 0.5:
            outcome = rng.choice(("completed", "completed", *self.outcomes))
            for outcome_def in self.tpl["outcomes"]:
                if outcome_def["id"] == outcome:
                    for step in outcome_def.get("steps", []):
                        if rng.random() < 0.85:
                            answers[step["id"]] = self.answer(
                                step, valid=rng.random() >= error_rate
                            )
        states.append({"answers": dict(answers), "outcome": outcome})
        # One more answer to check with validate_answer on top of the last state.
        if rng.random() < 0.05:
            key = rng.choice(("no_such_step", "étape"))
            candidate: JSON = {"step_id": key, "value": True}
        else:
            upcoming = self.phase_steps[cursor:] or self.steps
            step = upcoming[0] if rng.random() < 0.5 else rng.choice(self.steps)
            candidate = self.answer(step, valid=rng.random() < 0.7)
        return pooled(rng.choice(LANGS), SITE if rng.random() < 0.85 else None, states, candidate)


def pooled(lang: str, site: JSON | None, states: list[JSON], candidate: JSON | None = None) -> JSON:
    """A sequence with each answer object stored once (`pool`) and states naming them by index.

    States share most of their answers; sending each once keeps the page's data small.
    """
    pool: list[JSON] = []
    index: dict[int, int] = {}
    compact = []
    for state in states:
        refs = {}
        for key, answer in state["answers"].items():
            if id(answer) not in index:
                index[id(answer)] = len(pool)
                pool.append(answer)
            refs[key] = index[id(answer)]
        compact.append({"answers": refs, "outcome": state["outcome"]})
    return {"lang": lang, "site": site, "pool": pool, "states": compact, "candidate": candidate}


class PythonRun:
    """One sequence through the Python engine, decoded the way the server decodes a phone's JSON."""

    def __init__(self, template: CompiledTemplate, sequence: JSON) -> None:
        self.template = template
        self.sequence = sequence
        self.site = msgspec.convert(sequence["site"], GeoPoint) if sequence["site"] else None
        self.pool = msgspec.json.decode(msgspec.json.encode(sequence["pool"]), type=list[Answer])

    def answers(self, state: JSON) -> dict[str, Answer]:
        return {key: self.pool[ref] for key, ref in state["answers"].items()}

    def states(self) -> list[ChecklistState]:
        """The engine's state at every checkpoint."""
        lang = self.sequence["lang"]
        return [
            evaluate(
                self.template,
                self.answers(state),
                lang=lang,
                site=self.site,
                outcome=state["outcome"],
            )
            for state in self.sequence["states"]
        ]

    def validation(self) -> JSON | None:
        """What validate_answer says about the candidate on top of the last state (None: fine)."""
        candidate = self.sequence.get("candidate")
        if candidate is None:
            return None
        last = self.sequence["states"][-1]
        answer = msgspec.json.decode(msgspec.json.encode(candidate), type=Answer)
        try:
            validate_answer(
                self.template,
                self.answers(last),
                answer,
                site=self.site,
                outcome=last["outcome"],
                lang=self.sequence["lang"],
            )
        except AnswerRejected as rejected:
            return {"code": rejected.code, "step_id": rejected.step_id, "message": rejected.message}
        return None
