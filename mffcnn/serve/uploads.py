"""The images of one POST /predict, read under the body-size limit: multipart files, or the raw body.

Two ways to send images, both what HTTP clients do without being told: a multipart form with one or more
file parts (a browser's `<input type=file>`, `curl -F file=@a.jpg`), or the image bytes as the whole body
(`curl --data-binary @a.jpg`, `requests.post(url, data=...)`), whatever its Content-Type says.

The body is counted as it arrives and reading stops at the limit: a client cannot make the server buffer
more than `max_body_bytes`, whether or not it sends a Content-Length, and whether or not it tells the truth;
nor take longer than `body_seconds` to send it (408).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect, Request

from mffcnn.serve.limits import BAD_REQUEST, REQUEST_TIMEOUT, UNPROCESSABLE, Limits, RequestError, body_too_large

RAW_BODY_NAME = "body"  # the `file` of the result of an image sent as the whole body


@dataclass
class Upload:
    name: str  # the file name the client gave, or RAW_BODY_NAME
    data: bytes


async def read_uploads(request: Request, limits: Limits) -> list[Upload]:
    """Every image of a request: its multipart file parts, or its whole body. RequestError 413 when the body
    is over the limit, 422 when there is no file."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise body_too_large(limits)  # at once: not one byte of the body is read
    body = _limited(request, limits)
    content_type = request.headers.get("content-type", "")
    try:
        async with asyncio.timeout(limits.body_seconds):
            if content_type.lower().startswith("multipart/form-data"):
                uploads = await _multipart(request, body, limits)
            else:
                uploads = [Upload(RAW_BODY_NAME, b"".join([chunk async for chunk in body]))]
    except ClientDisconnect:
        raise RequestError(BAD_REQUEST, "client_disconnected", "the client left before its body arrived") from None
    except TimeoutError:
        raise RequestError(
            REQUEST_TIMEOUT, "body_too_slow", f"the request body did not arrive within {limits.body_seconds:g} s"
        ) from None
    uploads = [u for u in uploads if u.data]  # a form submitted without a chosen file sends an empty part
    if not uploads:
        raise RequestError(
            UNPROCESSABLE,
            "no_file",
            "no image in the request: send one or more files as multipart/form-data, or the image as the body",
        )
    return uploads


async def _limited(request: Request, limits: Limits) -> AsyncGenerator[bytes, None]:
    """The request body, chunk by chunk, stopping with 413 as soon as it passes the limit."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limits.max_body_bytes:
            raise body_too_large(limits)
        yield chunk


async def _multipart(request: Request, body: AsyncGenerator[bytes, None], limits: Limits) -> list[Upload]:
    parser = MultiPartParser(request.headers, body, max_files=limits.max_files)
    try:
        form = await parser.parse()
    except MultiPartException as e:
        raise RequestError(UNPROCESSABLE, "bad_multipart", f"the multipart body cannot be read: {e}") from None
    try:
        files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        return [Upload(f.filename or f"file {i}", await f.read()) for i, f in enumerate(files)]
    finally:
        await form.close()  # the parts spooled to temporary files
