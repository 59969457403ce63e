"""openapi.yaml: the committed contract generated from the app, and its staleness check.

It sits above the app factory (it builds an app to read its schema), which is why it is not
part of ``service.openapi``: the factory imports that module.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from service.app import create_app
from service.settings import load_settings

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


def render_openapi() -> str:
    """The app's OpenAPI document as YAML (stable key order)."""
    app = create_app(load_settings({}))
    schema = app.openapi_schema.to_schema()
    return yaml.safe_dump(schema, sort_keys=True, allow_unicode=True, width=100)


def write_openapi(path: Path = OPENAPI_PATH) -> None:
    """Regenerate the committed file."""
    path.write_text(render_openapi(), encoding="utf-8")


def openapi_is_current(path: Path = OPENAPI_PATH) -> bool:
    """Whether the committed file matches the app."""
    return path.exists() and path.read_text(encoding="utf-8") == render_openapi()
