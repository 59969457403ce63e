"""Published versions are immutable and identified by key, version and content hash."""

from __future__ import annotations

import hashlib

import msgspec
import pytest

from checklists import (
    Pin,
    PinMismatch,
    TemplateSet,
    UnknownTemplate,
    VersionConflict,
    canonical_json,
    compile_template,
    content_hash,
    load_templates,
)
from checklists.schema import Template, Text
from tests.unit.checklists.builders import build, phase, step, template_data


def sample() -> Template:
    return build([phase("p", [step("a", "yes_no")])])


def retitled(template: Template, title: str) -> Template:
    return msgspec.structs.replace(template, title=Text(ru=title, kk=title, en=title))


def test_content_hash_is_sha256_of_canonical_json() -> None:
    template = sample()
    assert content_hash(template) == hashlib.sha256(canonical_json(template)).hexdigest()
    assert len(content_hash(template)) == 64


def test_content_hash_ignores_key_order_and_spelled_out_defaults() -> None:
    data = template_data([phase("p", [step("a", "yes_no")])])
    reordered = dict(reversed(list(data.items())))
    explicit = template_data([phase("p", [step("a", "yes_no", required=True, evidence=[])])])
    hashes = {
        content_hash(msgspec.convert(variant, Template)) for variant in (data, reordered, explicit)
    }
    assert len(hashes) == 1


def test_any_content_change_changes_the_hash() -> None:
    template = sample()
    assert content_hash(retitled(template, "Other")) != content_hash(template)
    assert content_hash(msgspec.structs.replace(template, version=2)) != content_hash(template)


def test_same_content_under_a_version_is_accepted_once() -> None:
    templates = TemplateSet([sample()])
    again = templates.add(sample())
    assert len(templates) == 1
    assert again is templates.get("sample", 1)


def test_different_content_under_a_published_version_is_refused() -> None:
    templates = TemplateSet([sample()])
    with pytest.raises(VersionConflict, match="publish the change as a new version"):
        templates.add(retitled(sample(), "Changed in place"))
    assert templates.get("sample").template.title.en == "Sample"


def test_editing_publishes_the_next_version() -> None:
    templates = TemplateSet([sample()])
    edited = templates.publish(retitled(sample(), "Edited"))
    assert edited.version == 2
    assert templates.versions("sample") == (1, 2)
    assert templates.get("sample").version == 2
    assert templates.get("sample", 1).template.title.en == "Sample"
    # Publishing unchanged content is a no-op, whatever version number it carries.
    unchanged = templates.publish(msgspec.structs.replace(edited.template, version=7))
    assert unchanged is edited
    assert templates.versions("sample") == (1, 2)


def test_first_publication_is_version_one() -> None:
    assert TemplateSet().publish(msgspec.structs.replace(sample(), version=9)).version == 1


def test_a_visit_keeps_its_pinned_version() -> None:
    templates = TemplateSet([sample()])
    pin = templates.pin("sample")
    templates.publish(retitled(sample(), "Edited"))
    assert pin == Pin("sample", 1, content_hash(sample()))
    assert templates.resolve(pin).template.title.en == "Sample"
    with pytest.raises(PinMismatch):
        templates.resolve(Pin("sample", 1, "0" * 64))


def test_unknown_key_or_version() -> None:
    templates = TemplateSet([sample()])
    with pytest.raises(UnknownTemplate):
        templates.get("nothing")
    with pytest.raises(UnknownTemplate):
        templates.get("sample", 3)


def test_compilation_is_cached_by_content() -> None:
    first = compile_template(sample())
    assert compile_template(sample()) is first  # an equal but distinct object
    assert compile_template(first.template) is first


def test_shipped_templates_are_two_versions_each_with_distinct_hashes() -> None:
    templates = load_templates()
    assert templates.keys() == ("construction", "installation", "meter_check", "repair")
    # v1 is published and immutable; v2 adds the act's statements and internal markers.
    assert len(templates) == 8
    assert all(templates.versions(key) == (1, 2) for key in tuple(templates.keys()))
    assert len({compiled.content_hash for compiled in templates}) == 8
