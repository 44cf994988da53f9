"""The fake API's HTTP surface: OpenAI's routes and error bodies, served through an httpx
transport (sync or async) or as an ASGI application."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from email import policy
from email.parser import BytesParser
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from ._fake import FakeBatchAPI

__all__ = ["ApiError", "AsyncFakeTransport", "FakeTransport", "handle", "missing", "wrong_type"]

Answer = tuple[int, list[tuple[str, str]], bytes]


class ApiError(Exception):
    """An error answer of the API: its HTTP status and OpenAI's ``error`` body."""

    def __init__(
        self, status: int, message: str, *, param: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": param,
                "code": code,
            }
        }


def missing(name: str) -> ApiError:
    """The 400 OpenAI answers for a required parameter left out."""
    return ApiError(
        400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
    )


_KINDS = {
    dict: "an object",
    list: "an array",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
    str: "a string",
}


def wrong_type(name: str, expected: str, value: object) -> ApiError:
    """The 400 OpenAI answers for a parameter of the wrong type."""
    got = _KINDS.get(type(value), "a value")
    return ApiError(
        400,
        f"Invalid type for '{name}': expected {expected}, but got {got} instead.",
        param=name,
        code="invalid_type",
    )


def _json(status: int, value: object) -> Answer:
    body = json.dumps(value, separators=(",", ":")).encode()
    return status, [("content-type", "application/json")], body


def _form(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a multipart/form-data body: name -> (filename, content)."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    fields: dict[str, tuple[str | None, bytes]] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = (part.get_filename(), payload)
    return fields


def _upload(api: FakeBatchAPI, headers: dict[str, str], body: bytes) -> Answer:
    fields = _form(headers.get("content-type", ""), body)
    if "file" not in fields:
        raise missing("file")
    if "purpose" not in fields:
        raise missing("purpose")
    filename, content = fields["file"]
    purpose = fields["purpose"][1].decode("utf-8", "replace")
    return _json(
        200, api._api_upload(filename=filename or "upload", purpose=purpose, content=content)
    )


def _create(api: FakeBatchAPI, body: bytes) -> Answer:
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        raise ApiError(400, "We could not parse the JSON body of your request.") from None
    return _json(200, api._api_create(parsed))


def _list(api: FakeBatchAPI, query: dict[str, str]) -> Answer:
    limit = 20
    if "limit" in query:
        try:
            limit = int(query["limit"])
        except ValueError:
            raise wrong_type("limit", "an integer", query["limit"]) from None
    return _json(200, api._api_list(after=query.get("after"), limit=limit))


_FILE = re.compile(r"/v1/files/([^/]+)")
_CONTENT = re.compile(r"/v1/files/([^/]+)/content")
_BATCH = re.compile(r"/v1/batches/([^/]+)")
_CANCEL = re.compile(r"/v1/batches/([^/]+)/cancel")


def handle(
    api: FakeBatchAPI, method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> Answer:
    """Answer one request as OpenAI would: `headers` are keyed in lower case."""
    try:
        params = dict(parse_qsl(query))
        route = (method.upper(), path.rstrip("/"))
        if route == ("POST", "/v1/files"):
            return _upload(api, headers, body)
        if route == ("POST", "/v1/batches"):
            return _create(api, body)
        if route == ("GET", "/v1/batches"):
            return _list(api, params)
        if route[0] == "GET" and (found := _CONTENT.fullmatch(route[1])):
            return 200, [("content-type", "application/octet-stream")], api._api_content(found[1])
        if route[0] == "GET" and (found := _FILE.fullmatch(route[1])):
            return _json(200, api._api_file(found[1]))
        if route[0] == "GET" and (found := _BATCH.fullmatch(route[1])):
            return _json(200, api._api_retrieve(found[1]))
        if route[0] == "POST" and (found := _CANCEL.fullmatch(route[1])):
            return _json(200, api._api_cancel(found[1]))
        raise ApiError(404, f"Invalid URL ({method.upper()} {path})")
    except ApiError as error:
        return _json(error.status, error.body)


def _response(request: Any, answer: Answer) -> Any:
    """An ``httpx`` response of the request's own module (``httpx`` or ``httpx2``), so the
    transport serves either without importing one."""
    module = sys.modules[type(request).__module__.partition(".")[0]]
    status, headers, content = answer
    return module.Response(status, headers=headers, content=content, request=request)


def _parts(request: Any, body: bytes) -> tuple[str, str, str, dict[str, str], bytes]:
    url = request.url
    query = url.query.decode("ascii") if isinstance(url.query, bytes) else str(url.query)
    headers = {key.lower(): value for key, value in request.headers.items()}
    return request.method, url.path, query, headers, body


class FakeTransport:
    """An ``httpx`` transport (``httpx.Client(transport=...)``) that answers every request
    from a `FakeBatchAPI`, whatever the URL's host; works with ``httpx`` and ``httpx2``."""

    def __init__(self, api: FakeBatchAPI) -> None:
        self.api = api

    def handle_request(self, request: Any) -> Any:
        """Answer `request` (an ``httpx.Request``) with an ``httpx.Response``."""
        return _response(request, handle(self.api, *_parts(request, request.read())))

    def close(self) -> None:
        """Nothing to release: the API lives on for the next client."""

    def __enter__(self) -> FakeTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncFakeTransport:
    """The async twin of `FakeTransport`, for ``httpx.AsyncClient(transport=...)``."""

    def __init__(self, api: FakeBatchAPI) -> None:
        self.api = api

    async def handle_async_request(self, request: Any) -> Any:
        """Answer `request` (an ``httpx.Request``) with an ``httpx.Response``."""
        body = await request.aread()
        return _response(request, handle(self.api, *_parts(request, body)))

    async def aclose(self) -> None:
        """Nothing to release: the API lives on for the next client."""

    async def __aenter__(self) -> AsyncFakeTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class AsgiApp:
    """A `FakeBatchAPI` as an ASGI 3 application, for any ASGI server (``batchfsm serve``)."""

    def __init__(self, api: FakeBatchAPI) -> None:
        self.api = api

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        status, out, content = handle(
            self.api, scope["method"], scope["path"], query, headers, b"".join(chunks)
        )
        encoded = [(k.encode(), v.encode()) for k, v in out]
        encoded.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": encoded})
        await send({"type": "http.response.body", "body": content})
