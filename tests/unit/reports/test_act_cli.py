"""`acts render` command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from reports.cli import acts_group
from reports.samples import SAMPLE_ACT, SAMPLES_DIR

from .builders import ACT_NUMBER, CUSTOMER_NAME, jpeg, page_texts, sha256, snapshot_dict


def test_render_the_shipped_sample(tmp_path: Path) -> None:
    output = tmp_path / "act.pdf"

    result = CliRunner().invoke(acts_group, ["render", str(SAMPLE_ACT), "-o", str(output)])

    assert result.exit_code == 0, result.output
    text = "\n".join(page_texts(output.read_bytes()))
    assert "Әлия Қанатқызы Нұрланова" in text
    assert "snapshot sha256" in result.output


def test_render_a_bare_snapshot_with_an_assets_dir(tmp_path: Path) -> None:
    photo = jpeg(9)
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "any-name.jpg").write_bytes(photo)
    data = snapshot_dict(photos=[photo])
    source = tmp_path / "snapshot.json"
    source.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    output = tmp_path / "act.pdf"

    result = CliRunner().invoke(
        acts_group,
        ["render", str(source), "-o", str(output), "--assets-dir", str(tmp_path / "photos")],
    )

    assert result.exit_code == 0, result.output
    text = "\n".join(page_texts(output.read_bytes()))
    assert ACT_NUMBER in text
    assert CUSTOMER_NAME in text
    assert sha256(photo)[:16] in text


def test_envelope_assets_dir_is_relative_to_the_json_file(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(SAMPLES_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    output = tmp_path / "act.pdf"

    result = CliRunner().invoke(
        acts_group, ["render", str(copy / "act_sample_kk.json"), "-o", str(output)]
    )

    assert result.exit_code == 0, result.output
    assert "тапсыру-қабылдау актісі" in "\n".join(page_texts(output.read_bytes()))


def test_bad_snapshot_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    data = snapshot_dict()
    del data["customer"]["name"]
    source = tmp_path / "snapshot.json"
    source.write_text(json.dumps(data), "utf-8")
    output = tmp_path / "act.pdf"

    result = CliRunner().invoke(acts_group, ["render", str(source), "-o", str(output)])

    assert result.exit_code == 1
    assert "snapshot.customer.name" in result.output
    assert not output.exists()


def test_missing_photo_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "snapshot.json"
    source.write_text(json.dumps(snapshot_dict(photos=[jpeg(1)])), "utf-8")

    result = CliRunner().invoke(acts_group, ["render", str(source), "-o", str(tmp_path / "a.pdf")])

    assert result.exit_code == 1
    assert "photos[0]" in result.output
    assert "not supplied" in result.output


def test_not_json_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "snapshot.json"
    source.write_text("{oops", "utf-8")

    result = CliRunner().invoke(acts_group, ["render", str(source), "-o", str(tmp_path / "a.pdf")])

    assert result.exit_code == 1
    assert "not valid JSON" in result.output


def test_help_documents_the_file_format_and_the_sample() -> None:
    result = CliRunner().invoke(acts_group, ["render", "--help"])

    assert result.exit_code == 0
    assert '"signatures"' in result.output
    assert '"assets_dir"' in result.output
    assert "act_sample.json" in result.output
