"""JSON errors for the machine-facing routes (/api/, /webhooks/): every refusal names the
field and the reason, including aiohttp's own (a body over the size limit, an unknown path,
a wrong method), which would otherwise answer in plain text. An input with several problems
answers them all: `error` is the first, `errors` every one."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from trackwatch.config import Settings
from trackwatch.errors import InputError

MACHINE_PATHS = ("/api/", "/webhooks/", "/push/")
# Deeper than any body we take (a Shopify fulfillment nests about five levels): deeper ones
# are refused before anything walks them (json.loads itself stops near 1000 levels).
MAX_DEPTH = 32
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    def __init__(
        self, status: int, field: str, reason: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{field}: {reason}")
        self.status = status
        self.field = field
        self.reason = reason
        self.headers = dict(headers or {})


def error_response(error: ApiError, problems: Sequence[InputError] = ()) -> web.Response:
    body: dict[str, Any] = {"error": {"field": error.field, "reason": error.reason}}
    if problems:
        body["errors"] = [{"field": p.field, "reason": p.reason} for p in problems]
    return web.json_response(body, status=error.status, headers=error.headers)


def _from_http(exc: web.HTTPException) -> ApiError:
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return ApiError(413, "body", f"is too large ({exc.text})")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return ApiError(405, "method", f"{exc.method} is not allowed here; use "
                        f"{', '.join(sorted(exc.allowed_methods))}")  # fmt: skip
    if exc.status == 404:
        return ApiError(404, "path", "no such endpoint")
    return ApiError(exc.status, "request", exc.reason)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(MACHINE_PATHS):
        return await handler(request)
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc)
    except InputError as exc:
        return error_response(ApiError(400, exc.field, exc.reason), exc.problems)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(_from_http(exc))


def _depth(data: Any) -> int:
    """How deeply containers nest in parsed JSON (walked without recursion)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                items = value.values() if isinstance(value, dict) else value
                stack.extend((item, level + 1) for item in items)
    return deepest


def json_object(raw: bytes) -> dict[str, Any]:
    too_deep = ApiError(400, "body", f"is nested more than {MAX_DEPTH} levels deep")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise too_deep from None
    except ValueError as exc:  # not JSON, not UTF-8, or an integer of thousands of digits
        raise ApiError(400, "body", f"is not valid JSON ({exc})") from None
    if _depth(data) > MAX_DEPTH:
        raise too_deep
    if not isinstance(data, dict):
        raise ApiError(400, "body", "must be a JSON object")
    return data


async def json_body(request: web.Request, required: bool = True) -> dict[str, Any]:
    raw = await request.read()  # raises 413 past client_max_size
    if not raw.strip() and not required:
        return {}
    return json_object(raw)


def _digest(text: str) -> bytes:
    # Equal-length digests, so compare_digest's time does not depend on the token's length.
    return hashlib.sha256(text.encode()).digest()


def store_of_token(settings: Settings, authorization: str) -> str:
    """The store whose API token this Authorization header carries; 401 otherwise. Every
    store's token is compared, in constant time, whichever matches."""
    challenge = {"WWW-Authenticate": 'Bearer realm="trackwatch"'}
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "authorization", "send 'Authorization: Bearer <store token>'",
                       challenge)  # fmt: skip
    given = _digest(token.strip())
    found = ""
    for store_id, store in settings.stores.items():
        if store.api_token is None:
            continue
        if hmac.compare_digest(given, _digest(store.api_token.get_secret_value())):
            found = store_id
    if not found:
        raise ApiError(401, "authorization", "the token is not valid", challenge)
    return found
