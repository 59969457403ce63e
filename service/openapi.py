"""openapi.yaml generated from the app, and a staleness check."""

from __future__ import annotations

from pathlib import Path

import yaml

from service.settings import load_settings

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


def render_openapi() -> str:
    """The app's OpenAPI document as YAML (stable key order)."""
    from service.app import create_app

    app = create_app(load_settings({}))
    schema = app.openapi_schema.to_schema()
    return yaml.safe_dump(schema, sort_keys=True, allow_unicode=True, width=100)


def write_openapi(path: Path = OPENAPI_PATH) -> None:
    """Regenerate the committed file."""
    path.write_text(render_openapi(), encoding="utf-8")


def openapi_is_current(path: Path = OPENAPI_PATH) -> bool:
    """Whether the committed file matches the app."""
    return path.exists() and path.read_text(encoding="utf-8") == render_openapi()
