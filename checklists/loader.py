"""Reads template YAML files, reporting every problem with its file, line and path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import yaml

from checklists.compiled import compile_template
from checklists.errors import TemplateError, TemplateIssue
from checklists.schema import Template
from checklists.versioning import TemplateSet

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# libyaml's loader when PyYAML was built with it: ten times faster, same safe constructors.
_YamlLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# One file per published version, so a directory can never hold two contents for one version.
_FILE_NAME = re.compile(r"^(?P<key>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.yaml$")
_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
_MSGSPEC_ERROR = re.compile(r"^(?P<message>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.DOTALL)
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")


def parse_template(text: str, *, file: str = "<string>") -> Template:
    """Parse, validate and compile one template from YAML text; raises TemplateError."""
    try:
        root, data = _read_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise TemplateError([TemplateIssue("$", f"YAML: {error}", file=file, line=line)]) from None
    duplicates = list(_duplicate_keys(root))
    if duplicates:
        raise TemplateError(
            [
                TemplateIssue(path, message, file=file, line=line)
                for path, message, line in duplicates
            ]
        )
    try:
        template = msgspec.convert(data, Template)
    except msgspec.ValidationError as error:
        raise TemplateError([_schema_issue(str(error), data, root, file)]) from None
    try:
        compile_template(template)
    except TemplateError as error:
        raise TemplateError(
            [
                msgspec.structs.replace(issue, file=file, line=_line_at(root, issue.path))
                for issue in error.issues
            ]
        ) from None
    return template


def load_template_file(path: Path) -> Template:
    """Load one `<key>.v<version>.yaml` file; raises TemplateError."""
    template = parse_template(path.read_text(encoding="utf-8"), file=path.name)
    match = _FILE_NAME.match(path.name)
    if match is None:
        raise TemplateError(
            [TemplateIssue("$", "file name must be <key>.v<version>.yaml", file=path.name)]
        )
    issues = []
    if template.key != match["key"]:
        message = f"key {template.key!r} does not match the file name"
        issues.append(TemplateIssue("$.key", message, file=path.name, field="key"))
    if template.version != int(match["version"]):
        message = f"version {template.version} does not match the file name"
        issues.append(TemplateIssue("$.version", message, file=path.name, field="version"))
    if issues:
        raise TemplateError(issues)
    return template


def load_templates(directory: Path | None = None) -> TemplateSet:
    """Every template in a directory (default: the shipped ones); raises TemplateError."""
    templates, issues = check_directory(directory)
    if issues:
        raise TemplateError(issues)
    return TemplateSet(templates)


def check_directory(directory: Path | None = None) -> tuple[list[Template], list[TemplateIssue]]:
    """Load every *.yaml file in a directory, collecting the problems instead of stopping."""
    folder = directory or TEMPLATES_DIR
    files = sorted(folder.glob("*.yaml"))
    if not files:
        return [], [TemplateIssue("$", f"no *.yaml templates in {folder}")]
    templates: list[Template] = []
    issues: list[TemplateIssue] = []
    for path in files:
        try:
            templates.append(load_template_file(path))
        except TemplateError as error:
            issues.extend(error.issues)
    return templates, issues


def _read_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for line numbers) and the plain data, from a single parse."""
    loader = _YamlLoader(text)
    try:
        root = loader.get_single_node()
        return root, (loader.construct_document(root) if root is not None else None)
    finally:
        loader.dispose()


def _schema_issue(error: str, data: Any, root: yaml.Node | None, file: str) -> TemplateIssue:
    """A msgspec ValidationError as an issue with its line, step id and field."""
    match = _MSGSPEC_ERROR.match(error)
    assert match is not None  # the pattern matches any string
    message = match["message"]
    path = match["path"] or "$"
    unknown = _UNKNOWN_FIELD.search(message)
    parts = _path_parts(path)
    field = (
        unknown.group(1)
        if unknown
        else next((part for part in reversed(parts) if isinstance(part, str)), None)
    )
    return TemplateIssue(
        path,
        message,
        file=file,
        line=_line_at(root, path),
        step_id=_step_id_at(data, parts),
        field=field,
    )


def _path_parts(path: str) -> list[str | int]:
    return [name if name else int(index) for name, index in _PATH_PART.findall(path)]


def _line_at(root: yaml.Node | None, path: str) -> int | None:
    """1-based line of the deepest YAML node the JSON path reaches."""
    node = root
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in _path_parts(path):
        child: yaml.Node | None = None
        if isinstance(part, str) and isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(part, int) and isinstance(node, yaml.SequenceNode):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _step_id_at(data: Any, parts: list[str | int]) -> str | None:
    """The id of the innermost step the path passes through, if any."""
    step_id = None
    node = data
    previous: str | int | None = None
    for part in parts:
        if isinstance(part, str) and isinstance(node, dict):
            node = node.get(part)
        elif isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
        else:
            break
        if previous == "steps" and isinstance(node, dict) and isinstance(node.get("id"), str):
            step_id = node["id"]
        previous = part
    return step_id


def _duplicate_keys(node: yaml.Node | None, path: str = "$") -> Iterator[tuple[str, str, int]]:
    """Keys repeated in one YAML mapping, which PyYAML would otherwise silently overwrite."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                yield f"{path}.{name}", f"duplicate key {name!r}", key.start_mark.line + 1
            seen.add(name)
            yield from _duplicate_keys(value, f"{path}.{name}")
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, f"{path}[{index}]")
