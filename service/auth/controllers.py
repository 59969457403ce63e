"""Login and refresh endpoints."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, post
from litestar.datastructures import State
from litestar.openapi import ResponseSpec

from service.auth.schemas import LoginRequest, RefreshRequest, TokenPair
from service.auth.services import AuthService, RefreshRejected
from service.common.params import DbSession
from service.errors import Problem, problem_response


class AuthController(Controller):
    """Token issue and rotation."""

    path = "/api/v1/auth"
    tags = ["auth"]
    opt = {"exclude_from_auth": True}

    @post("/login", operation_id="Login", status_code=200)
    async def login(self, data: LoginRequest, db_session: DbSession, state: State) -> TokenPair:
        """Exchange a username and password for tokens."""
        return await AuthService(db_session, state.settings.auth).login(data)

    @post(
        "/refresh",
        operation_id="RefreshTokens",
        status_code=200,
        responses={
            200: ResponseSpec(
                data_container=TokenPair, description="New token pair", generate_examples=False
            )
        },
    )
    async def refresh(
        self, data: RefreshRequest, db_session: DbSession, state: State
    ) -> Response[Any]:
        """Rotate a refresh token; reusing an old one revokes the whole session family."""
        result = await AuthService(db_session, state.settings.auth).refresh(data)
        if isinstance(result, RefreshRejected):
            # Returned, not raised: the family revocation must commit with the 401.
            return problem_response(
                Problem(
                    type="https://naryad.dev/problems/unauthorized",
                    title="Unauthorized",
                    status=401,
                    detail=result.reason,
                    instance="/api/v1/auth/refresh",
                ),
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Response(result)
