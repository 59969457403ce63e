"""The 429 answers of the rate-limited auth surfaces, declared in openapi.yaml."""

from __future__ import annotations

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

# Operations answering 429, and why (the board's form is not in the schema).
RATE_LIMITED = {
    ("/api/v1/auth/login", "post"): (
        "Too many attempts from this address, or this account is backing off after failed "
        "logins; wait Retry-After seconds"
    ),
    ("/api/v1/auth/refresh", "post"): "Too many refreshes from this address; wait Retry-After",
    ("/mobile/v1/sign/{token}/otp", "post"): "Too many codes requested from this address",
    ("/appeal", "post"): "Too many appeals sent from this address; wait Retry-After",
}


def document_rate_limits(openapi: OpenAPI) -> None:
    """Add the 429 problem with its Retry-After header to each rate-limited operation."""
    retry_after = OpenAPIHeader(
        schema=Schema(type=OpenAPIType.INTEGER, minimum=1),
        description="Seconds to wait before trying again",
        required=True,
    )
    problem = OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
    for (path, method), description in RATE_LIMITED.items():
        item = (openapi.paths or {}).get(path)
        operation = getattr(item, method, None) if item is not None else None
        if operation is None:
            raise LookupError(f"{method.upper()} {path} is not in the schema")
        responses = operation.responses or {}
        responses["429"] = OpenAPIResponse(
            description=description,
            headers={"Retry-After": retry_after},
            content={"application/problem+json": problem},
        )
        operation.responses = dict(sorted(responses.items()))
