"""The `checklists` click group: validate, show, simulate."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

from checklists import TEMPLATES_DIR, content_hash, load_templates
from checklists.cli import checklists_group
from tests.unit.checklists.builders import SITE, complete_answers


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_validate_shipped_templates(runner: CliRunner) -> None:
    result = runner.invoke(checklists_group, ["validate"])
    assert result.exit_code == 0, result.output
    installation = load_templates().get("installation")
    assert f"ok    installation v2  sha256:{installation.content_hash}" in result.output
    assert "8 template(s) valid" in result.output


def test_validate_reports_file_line_and_path(runner: CliRunner, tmp_path: Path) -> None:
    source = (TEMPLATES_DIR / "repair.v1.yaml").read_text(encoding="utf-8")
    broken = source.replace(
        "visible_when: equipment_replaced == true", "visible_when: equipment_replced == true"
    )
    assert broken != source
    (tmp_path / "repair.v1.yaml").write_text(broken, encoding="utf-8")
    line = next(
        number
        for number, text in enumerate(broken.splitlines(), start=1)
        if "equipment_replced" in text
    )
    result = runner.invoke(checklists_group, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert (
        f"error repair.v1.yaml:{line}: $.phases[2].steps[6].visible_when (step equipment_installed)"
        " [visible_when]: unknown step 'equipment_replced' (column 1)"
    ) in result.output


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        ("ru", ["Подключение (инсталляция)", "3. work — Работы", "Не принимать у клиента"]),
        ("kk", ["Қосылу (инсталляция) [kk: needs review]", "Сәлеметсіз бе!"]),
        ("en", ["Installation (connection)", "Showed the company ID"]),
    ],
)
def test_show_lists_phases_and_steps(runner: CliRunner, lang: str, phrases: list[str]) -> None:
    result = runner.invoke(checklists_group, ["show", "installation", "--lang", lang])
    assert result.exit_code == 0, result.output
    for phrase in phrases:
        assert phrase in result.output
    assert "gate: show_id answered; adult_present = " in result.output
    assert (
        "   - equipment_installed [serial, required, 1..20, evidence: timestamp]" in result.output
    )
    assert "incident: safety → supervisor (else security)" in result.output
    assert "Kazakh awaiting native review:" in result.output


def test_show_unknown_key(runner: CliRunner) -> None:
    result = runner.invoke(checklists_group, ["show", "teleport"])
    assert result.exit_code == 1
    assert "no template 'teleport'" in result.output


def test_simulate_prints_the_state_as_json(runner: CliRunner, tmp_path: Path) -> None:
    installation = load_templates().get("installation")
    answers = list(complete_answers(installation).values())
    payload = {
        "answers": msgspec.to_builtins(answers),
        "site": {"lat": SITE.lat, "lon": SITE.lon},
        "outcome": "completed",
    }
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    result = runner.invoke(
        checklists_group, ["simulate", "installation", str(path), "--lang", "en"]
    )
    assert result.exit_code == 0, result.output
    state = json.loads(result.output)
    assert state["outcome"] == "completed"
    assert state["completion_allowed"] is True
    assert state["content_hash"] == content_hash(installation.template)


def test_simulate_accepts_a_bare_list_and_an_outcome_option(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "answers.json"
    path.write_text('[{"step_id": "adult_present", "value": false}]', encoding="utf-8")
    result = runner.invoke(
        checklists_group, ["simulate", "repair", str(path), "--outcome", "aborted_safety"]
    )
    assert result.exit_code == 0, result.output
    state = json.loads(result.output)
    assert state["outcome"] == "aborted_safety"
    assert state["incident"]["notify"] == ["supervisor"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"answers": [{"step_id": "x", "colour": 1}]}', "Object contains unknown field `colour`"),
        (
            '[{"step_id": "show_id", "value": true}, {"step_id": "show_id", "value": true}]',
            "answered twice",
        ),
        ("not json", "ANSWERS.json"),
    ],
)
def test_simulate_rejects_bad_input(
    runner: CliRunner, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "answers.json"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(checklists_group, ["simulate", "installation", str(path)])
    assert result.exit_code == 1
    assert message in result.output
