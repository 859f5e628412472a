"""The Temporal remote codec endpoint, so staff read encrypted histories in the web UI and CLI.

Protocol (docs.temporal.io "Codec Server"): `POST /api/temporal-codec/decode` and `/encode`
take and return `{"payloads": [{"metadata": {k: base64}, "data": base64}]}` (the protobuf JSON
of `temporal.api.common.v1.Payloads`), with the namespace in `X-Namespace`.

Only signed-in staff and admins: the caller sends its access token as `Authorization: Bearer`
(`temporal workflow show --codec-endpoint ... --codec-auth "Bearer <token>"`, or the UI's "pass
access token"), or, for the browser UI, as the HttpOnly cookie `POST /api/temporal-codec/session`
sets from that token (the UI's "include cross-origin credentials"; the cookie expires with the
token and only these routes read it). The UI origins are TEMPORAL_UI_ORIGINS (CORS).
"""

from __future__ import annotations

from datetime import UTC, datetime
from inspect import isawaitable
from typing import Any

from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from litestar import Request, Response, Router, delete, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import ClientException, NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import JSONBody
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK
from pydantic import BaseModel
from temporalio.api.common.v1 import Payloads

from api.security.guards import STAFF, Guard
from api.security.tokens import AuthUser, build_jwt_auth
from config import Settings
from temporal_codec import EncryptionCodec

COOKIE = "worlddoor_codec"
PATH = "/api/temporal-codec"


class CodecSession(BaseModel):
    open: bool
    expires_in: int  # seconds until the cookie (and the token in it) expires


def codec_guard(settings: Settings) -> Guard:
    """The staff guard for routes the browser may reach with the codec cookie instead of the
    Authorization header (the routes opt out of the header-only JWT middleware): authenticate
    from either, exactly as the middleware does, then apply the STAFF role check."""
    jwt_auth = build_jwt_auth(settings)

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        header = connection.headers.get("authorization", "")
        encoded = header[7:].strip() if header.lower().startswith("bearer ") else ""
        encoded = encoded or connection.cookies.get(COOKIE, "")
        if not encoded:
            raise NotAuthorizedException("sign in: send the access token or open a codec session")
        token = Token.decode(
            encoded_token=encoded,
            secret=jwt_auth.token_secret,
            algorithm=jwt_auth.algorithm,
            audience=jwt_auth.accepted_audiences,
            require_claims=jwt_auth.require_claims,
        )
        user = jwt_auth.retrieve_user_handler(token, connection)
        user = await user if isawaitable(user) else user
        revoked = jwt_auth.revoked_token_handler and jwt_auth.revoked_token_handler(
            token, connection
        )
        revoked = await revoked if isawaitable(revoked) else revoked
        if not isinstance(user, AuthUser) or revoked:
            raise NotAuthorizedException("the access token is not valid any more")
        connection.scope["user"] = user  # the request log names the caller
        await STAFF(connection, handler)

    return guard


def _payloads(body: dict[str, Any]) -> Payloads:
    try:
        return ParseDict(body, Payloads())
    except (ParseError, TypeError, ValueError) as exc:
        raise ClientException(
            f"body must be {{'payloads': [...]}} (Temporal codec): {exc}"
        ) from exc


def _check_namespace(request: Request[Any, Any, Any], settings: Settings) -> None:
    namespace = request.headers.get("x-namespace", settings.temporal_namespace)
    if namespace != settings.temporal_namespace:
        raise ClientException(f"unknown namespace {namespace!r}")


def routers(settings: Settings) -> list[Router]:
    codec = EncryptionCodec.from_spec(settings.temporal_payload_keys.get_secret_value())

    async def transcode(
        request: Request[Any, Any, Any], body: dict[str, Any], encode: bool
    ) -> dict[str, Any]:
        _check_namespace(request, settings)
        payloads = _payloads(body)
        try:
            done = await (codec.encode if encode else codec.decode)(payloads.payloads)
        except ValueError as exc:  # unknown key id
            raise ClientException(str(exc)) from exc
        except Exception as exc:  # noqa: BLE001 - cryptography's InvalidTag: tampered or wrong key
            raise ClientException(f"payload cannot be decrypted ({type(exc).__name__})") from exc
        return MessageToDict(Payloads(payloads=done))

    staff = codec_guard(settings)

    @post(
        "/decode",
        exclude_from_auth=True,
        guards=[staff],
        status_code=HTTP_200_OK,
        summary="Decrypt Temporal payloads (remote codec protocol)",
    )
    async def decode(
        request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        return await transcode(request, data, encode=False)

    @post(
        "/encode",
        exclude_from_auth=True,
        guards=[staff],
        status_code=HTTP_200_OK,
        summary="Encrypt Temporal payloads (remote codec protocol)",
    )
    async def encode(
        request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        return await transcode(request, data, encode=True)

    @post(
        "/session",
        guards=[STAFF],
        status_code=HTTP_200_OK,
        summary="Let this browser's Temporal web UI decode payloads until the token expires",
    )
    async def open_session(request: Request[AuthUser, Token, Any]) -> Response[CodecSession]:
        header = request.headers.get("authorization", "")
        remaining = max(int((request.auth.exp - datetime.now(UTC)).total_seconds()), 0)
        return Response(
            CodecSession(open=True, expires_in=remaining),
            status_code=HTTP_200_OK,
            cookies=[
                Cookie(
                    key=COOKIE,
                    value=header[7:].strip(),
                    path=PATH,
                    max_age=remaining,
                    httponly=True,
                    secure=settings.public_base_url.startswith("https://"),
                    samesite="strict",
                )
            ],
        )

    @delete(
        "/session",
        exclude_from_auth=True,
        status_code=HTTP_200_OK,
        summary="Forget this browser's codec session (public: it only clears the cookie)",
    )
    async def close_session() -> Response[CodecSession]:
        return Response(
            CodecSession(open=False, expires_in=0),
            status_code=HTTP_200_OK,
            cookies=[Cookie(key=COOKIE, value="", path=PATH, max_age=0)],
        )

    return [
        Router(PATH, route_handlers=[decode, encode, open_session, close_session], tags=["ops"])
    ]
