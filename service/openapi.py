"""OpenAPI documentation the app adds to its schema: problem+json errors, sync payloads."""

from __future__ import annotations

from typing import Any, cast

import msgspec
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Parameter,
    Reference,
    Schema,
)

_ERRORS = {
    "400": "Malformed request, schema violation, NUL characters or JSON nested too deep",
    "401": "Missing, invalid or expired credentials",
    "403": "The caller's role may not do this",
    "404": "Not found, or outside the caller's scope",
    "409": "Conflicts with the current state",
    "413": "Request body too large",
    "422": "Breaks a business rule",
    "500": "Server failure (logged, no details)",
}
# Checked while the body streams in, so only operations that take a body can time out.
_BODY_ERRORS = {
    "408": "The request body did not arrive in time; the connection is closed",
}
# Pages that answer some errors as an HTML page for the person holding the link.
_HTML_ERROR_PAGES = {
    "RatingPage": ("404", "409", "410"),
    "VerifyAct": ("404",),
}
_PAGE_ERROR_DESCRIPTIONS = {
    "404": "The link is unknown (an HTML page, or problem+json when JSON is asked for)",
    "409": "The link has been used (an HTML page)",
    "410": "The link has expired (an HTML page)",
}
_CREDENTIAL_PATH = "/api/v1/auth/"
# Public operations that still answer 401: the credential in their body can be refused.
_PUBLIC_UNAUTHORIZED = {
    "SubmitSignature": "The one-time code has expired, or too many wrong codes locked the link",
}
# Only operations taking If-Match answer these (a PATCH without it never does).
_CONDITIONAL_ERRORS = {
    "412": "If-Match does not match the current version",
    "428": "If-Match is required",
}

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "title", "status"],
    description="RFC 9457 problem details",
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "instance": Schema(type=OpenAPIType.STRING),
        "code": Schema(type=OpenAPIType.STRING),
        "errors": Schema(
            type=OpenAPIType.ARRAY,
            items=Schema(
                type=OpenAPIType.OBJECT,
                required=["field", "message"],
                properties={
                    "field": Schema(type=OpenAPIType.STRING),
                    "message": Schema(type=OpenAPIType.STRING),
                },
            ),
        ),
    },
)


def document_problem_responses(openapi: OpenAPI, public_paths: list[str]) -> None:
    """Every error response is application/problem+json; list the ones each operation gives."""
    components = openapi.components if isinstance(openapi.components, Components) else Components()
    openapi.components = components
    components.schemas = {**(components.schemas or {}), "Problem": PROBLEM_SCHEMA}
    problem = OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
    for path, item in (openapi.paths or {}).items():
        public = any(path.startswith(p) for p in public_paths)
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            if public:
                # No bearer token: the URL's own token, the body's credentials, or nothing.
                operation.security = []
            errors = dict(_ERRORS)
            if any(
                isinstance(p, Parameter) and p.param_in == "header" and p.name == "If-Match"
                for p in operation.parameters or ()
            ):
                errors |= _CONDITIONAL_ERRORS
            if method in ("post", "put", "patch"):
                errors |= _BODY_ERRORS
            if public:
                errors.pop("403")
                # Only the credential endpoints themselves answer 401 without a bearer token.
                refused = _PUBLIC_UNAUTHORIZED.get(operation.operation_id or "")
                if refused is not None:
                    errors["401"] = refused
                elif not path.startswith(_CREDENTIAL_PATH):
                    errors.pop("401")
            else:
                errors["401"] = _ERRORS["401"]
            responses = operation.responses or {}
            for status, description in errors.items():
                existing = responses.get(status)
                keep = existing.description if isinstance(existing, OpenAPIResponse) else None
                # Customer pages answer a browser with an HTML page and a client with JSON.
                declared = existing.content if isinstance(existing, OpenAPIResponse) else None
                pages = {k: v for k, v in (declared or {}).items() if k == "text/html"}
                responses[status] = OpenAPIResponse(
                    description=keep or description,
                    content={**pages, "application/problem+json": problem},
                )
            for status in _HTML_ERROR_PAGES.get(operation.operation_id or "", ()):
                responses[status] = OpenAPIResponse(
                    description=_PAGE_ERROR_DESCRIPTIONS[status],
                    content={
                        "application/problem+json": problem,
                        "text/html": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING)),
                    },
                )
            for status, response in responses.items():
                # Other errors an operation declares (410 of an expired customer link) too.
                content = response.content if isinstance(response, OpenAPIResponse) else None
                if status >= "400" and content and "text/html" in content:
                    content["application/problem+json"] = problem
            operation.responses = dict(sorted(responses.items()))


def document_sync_payloads(openapi: OpenAPI) -> None:
    """Show ``OperationIn`` as the tagged union the service decodes each operation into.

    The wire struct keeps the payload as plain JSON so that a payload which does not fit its
    type is that operation's rejection rather than a 400 for the whole batch; the contract
    shows the typed shape: one schema per ``type`` (the discriminator), each with its payload.
    """
    from service.execution.schemas import Operation

    components = openapi.components if isinstance(openapi.components, Components) else Components()
    openapi.components = components
    schemas = dict(components.schemas or {})
    if "OperationIn" not in schemas:
        return
    (union,), typed = msgspec.json.schema_components(
        [Operation], ref_template="#/components/schemas/{name}"
    )
    for name, schema in typed.items():
        # Plain JSON Schema dicts (OpenAPI 3.1 uses JSON Schema 2020-12) serialise as they are.
        schemas.setdefault(name, cast("Any", schema))
    # Tags are exclusive, so exactly one member matches: oneOf, which generators map to a union.
    schemas["OperationIn"] = cast(
        "Any",
        {
            "oneOf": union["anyOf"],
            "discriminator": union["discriminator"],
            "description": (
                "One operation recorded offline; `type` selects its schema and its payload. "
                "A payload that does not fit its type is rejected for that operation alone "
                "(result `rejected`, code `invalid_payload`); an unknown `type` is a 400."
            ),
        },
    )
    components.schemas = dict(sorted(schemas.items()))


def document_deprecated_query_names(openapi: OpenAPI) -> None:
    """Mark the old names of renamed query parameters deprecated where the new name is offered."""
    from service.common.params import DEPRECATED_QUERY_NAMES

    for item in (openapi.paths or {}).values():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            parameters = (
                [p for p in (operation.parameters or []) if isinstance(p, Parameter)]
                if operation
                else []
            )
            offered = {p.name for p in parameters if p.param_in == "query"}
            for parameter in parameters:
                current = DEPRECATED_QUERY_NAMES.get(parameter.name)
                if parameter.param_in == "query" and current in offered:
                    parameter.deprecated = True
