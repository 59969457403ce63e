"""openapi.yaml says what a generated client needs: security, keys, typed operations."""

from __future__ import annotations

import typing
from typing import Any

import pytest
import yaml

from service.contract import OPENAPI_PATH
from service.execution.schemas import OperationType

METHODS = ("get", "post", "put", "patch", "delete")
# Operations a caller reaches without a bearer token (their URL's token, credentials, nothing).
PUBLIC = {
    "Health",
    "Ready",
    "Login",
    "RefreshTokens",
    "SigningPage",
    "SubmitSignature",
    "SendSigningCode",
    "RefuseToSign",
    "CustomerActCopy",
    "CustomerActCopyQrCode",
    "RatingPage",
    "SubmitRating",
    "VerifyAct",
    "VerifyAppealLetter",
    "SubmitAppeal",
}


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text(encoding="utf-8"))
    return loaded


def operations(contract: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method])
        for path, item in contract["paths"].items()
        for method in METHODS
        if method in item
    ]


def test_public_operations_need_no_bearer_token(contract: dict[str, Any]) -> None:
    assert contract["security"] == [{"BearerToken": []}]
    seen = set()
    for path, _, operation in operations(contract):
        name = operation["operationId"]
        if name in PUBLIC:
            seen.add(name)
            assert operation["security"] == [], name
            # Only the credential endpoints, and a signature whose one-time code is refused,
            # answer 401 without a token.
            credential = path.startswith("/api/v1/auth/") or name == "SubmitSignature"
            assert ("401" in operation["responses"]) == credential, name
        else:
            assert "security" not in operation, name  # the bearer requirement applies
            assert "401" in operation["responses"], name
    assert seen == PUBLIC


def test_every_mobile_post_declares_its_idempotency_key(contract: dict[str, Any]) -> None:
    posts = [
        (path, operation)
        for path, method, operation in operations(contract)
        if method == "post" and path.startswith("/mobile/v1/") and "/sign/" not in path
    ]
    assert {op["operationId"] for _, op in posts} >= {
        "SyncPush",
        "StartPhotoUpload",
        "ConfirmPhoto",
        "StartActSigning",
    }
    for path, operation in posts:
        [key] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert (key["in"], key["required"]) == ("header", True), path
        success = [s for s in operation["responses"] if s.startswith("2")]
        for status in success:
            assert "Idempotent-Replayed" in operation["responses"][status]["headers"], path
        assert "Retry-After" in operation["responses"]["409"]["headers"], path


def test_sync_operations_are_a_tagged_union(contract: dict[str, Any]) -> None:
    schemas = contract["components"]["schemas"]
    items = schemas["PushRequest"]["properties"]["operations"]["items"]
    assert items == {"$ref": "#/components/schemas/OperationIn"}
    union = schemas["OperationIn"]
    assert union["discriminator"]["propertyName"] == "type"
    mapping = union["discriminator"]["mapping"]
    assert set(mapping) == set(typing.get_args(OperationType))
    assert sorted(m["$ref"] for m in union["oneOf"]) == sorted(mapping.values())
    for kind, ref in mapping.items():
        member = schemas[ref.rsplit("/", 1)[-1]]
        assert member["properties"]["type"]["enum"] == [kind]
        assert member["properties"]["payload"]["$ref"].startswith("#/components/schemas/")
    value = schemas["AnswerPayload"]["properties"]["value"]
    shapes = {s.get("type") for s in value["anyOf"]}
    assert shapes == {"boolean", "integer", "number", "string", "array", "null"}
    assert "serial" in value["description"]
