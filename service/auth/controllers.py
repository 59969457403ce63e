"""Login and refresh endpoints."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody

from service.auth.devices import DeviceRevoke, DeviceService, DeviceView, device_view
from service.auth.guards import require_roles
from service.auth.me import Me, MeService
from service.auth.schemas import LoginRequest, RefreshRequest, TokenPair
from service.auth.services import AuthService, RefreshRejected
from service.auth.throttle import LoginThrottleDep
from service.common.actor import Role
from service.common.params import AppSettings, CurrentActor, DbSession
from service.errors import Problem, problem_response


class AuthController(Controller):
    """Token issue and rotation."""

    path = "/api/v1/auth"
    tags = ["auth"]
    opt = {"exclude_from_auth": True}

    @post("/login", operation_id="Login", status_code=200)
    async def login(
        self,
        data: JSONBody[LoginRequest],
        db_session: DbSession,
        settings: AppSettings,
        login_throttle: LoginThrottleDep,
    ) -> TokenPair:
        """Exchange a username and password for tokens."""
        return await AuthService(db_session, settings.auth, login_throttle).login(data)

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
        self, data: JSONBody[RefreshRequest], db_session: DbSession, settings: AppSettings
    ) -> Response[Any]:
        """Rotate a refresh token; reusing an old one revokes the whole session family."""
        result = await AuthService(db_session, settings.auth).refresh(data)
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


class DeviceController(Controller):
    """Technicians' phones; revoking one ends its sessions at once."""

    path = "/api/v1/devices"
    tags = ["auth"]

    @get("/", operation_id="ListDevices", guards=[require_roles(Role.SUPERVISOR, Role.DISPATCHER)])
    async def list_devices(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        technician_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[DeviceView]:
        """Devices of technicians in the caller's territories."""
        devices = await DeviceService(db_session, actor).page(technician_id)
        return [device_view(d) for d in devices]

    @post(
        "/{device_id:uuid}/revoke",
        operation_id="RevokeDevice",
        status_code=200,
        guards=[require_roles(Role.SUPERVISOR)],
    )
    async def revoke_device(
        self,
        device_id: FromPath[uuid.UUID],
        data: JSONBody[DeviceRevoke],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> DeviceView:
        """Revoke a lost or stolen phone: its tokens stop working immediately."""
        return device_view(await DeviceService(db_session, actor).revoke(device_id, data.reason))


class MeController(Controller):
    """The caller's own identity."""

    path = "/api/v1/me"
    tags = ["auth"]

    @get("/", operation_id="GetMe")
    async def me(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        accept_language: Annotated[
            str | None, HeaderParameter(name="Accept-Language", required=False)
        ] = None,
    ) -> Me:
        """Who am I: user id, username, role, territories, technician id and personnel number."""
        return await MeService(db_session, actor).me(accept_language)
