"""The HTTP API and the page: POST /predict, GET /health, GET /model, the page at /, OpenAPI docs at /docs.

FastAPI for the routes and the OpenAPI schema; fastapi-offline so that /docs (Swagger UI) and /redoc load
their scripts from the package, not from a CDN, like the page itself: a server on a machine without internet
access shows everything it serves.
"""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

from mffcnn.predict.backends import FLIP, SAMPLE_IMAGE, Backend
from mffcnn.predict.faces import choose_detector
from mffcnn.predict.pipeline import load_model
from mffcnn.serve.connection import Places
from mffcnn.serve.limits import INTERNAL_ERROR, UNPROCESSABLE, Limits, RequestError, busy
from mffcnn.serve.memory import HeapTrimmer
from mffcnn.serve.service import READABLE, Service
from mffcnn.serve.tracks import MAX_ID, Sessions
from mffcnn.serve.uploads import read_uploads

STATIC = Path(__file__).resolve().parent / "static"
# The page loads nothing from elsewhere (no CDN; it works offline), and the browser is told to refuse if it
# ever tried. blob: for the camera frames and chosen photos it draws.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
ERROR_BODY = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
    "required": ["error", "detail"],
}
IMAGE_BODY = {"schema": {"type": "string", "format": "binary"}}
PREDICT_DOC = {
    "requestBody": {
        "required": True,
        "description": f"One or more images ({READABLE}): multipart/form-data file parts (any field name), "
        "or one image as the whole body (any other Content-Type).",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                }
            },
            "image/jpeg": IMAGE_BODY,
            "image/png": IMAGE_BODY,
            "application/octet-stream": IMAGE_BODY,
        },
    },
    "responses": {
        str(status): {"description": what, "content": {"application/json": {"schema": ERROR_BODY}}}
        for status, what in (
            (413, "body over the size limit, or images with more pixels than the limit (from their headers)"),
            (408, "the request body took longer than the server's limit to arrive"),
            (415, "no file of the request is an image this server reads"),
            (422, "no file in the request, or a bad query parameter"),
            (503, "the server is answering as many requests as it takes at once; try again (Retry-After)"),
        )
    },
}


def create_app(
    model: Backend | str | Path | None = None,
    *,
    limits: Limits | None = None,
    threads: int | None = None,
    detector: str | None = None,
    flip: bool = FLIP,
) -> FastAPI:
    """The server's app: `model` is a loaded model, a model file (checkpoint, .onnx, TorchScript) or None for
    the bundled one; `threads` sizes the workers that decode and detect (default: the CPU count); `detector`
    names the face detector ("blazeface", the default, or "haar"); `flip` averages each face with its mirror
    image (backends.FLIP)."""
    from mffcnn import __version__

    limits = limits or Limits()
    loaded = model if isinstance(model, Backend) else load_model(model, threads=threads)
    service = Service(loaded, limits=limits, threads=threads, flip=flip)
    chosen = choose_detector(loaded.preprocessing, detector)
    sessions = Sessions()  # the page's camera: a tracker and a smoother per client (tracks.py)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        service.close()

    app = FastAPIOffline(
        title="mffcnn",
        version=__version__,
        description="Facial expressions of every face in a photo: MFF-CNN (Zou, Zhang & Lee 2021). "
        "POST images to /predict; the page at / does it from a browser or a camera.",
        lifespan=lifespan,
    )
    app.state.service = service
    # The places of predictions in progress, shared with the connections waiting for their requests' heads
    # (serve.connection): max_concurrent of them in all.
    app.state.trimmer = trimmer = HeapTrimmer()
    app.state.places = places = Places(limits.max_concurrent, trimmer)
    app.state.limits = limits
    _add_error_handlers(app)

    @app.post("/predict", openapi_extra=PREDICT_DOC, summary="Classify every face in one or more images")
    async def predict(
        request: Request,
        min_face: float | None = Query(
            None,
            gt=0,
            le=1,
            description="smallest face to find, as a fraction of the image's shorter side "
            f"(this server's default: {chosen.min_size:g}; at least {limits.smallest_min_face})",
        ),
        detect: bool = Query(True, description="false: each image is a face crop already; nothing is detected"),
        track: str | None = Query(
            None,
            max_length=MAX_ID,
            description="a camera session id (any string the client makes up): the images are the session's next "
            "frames, and each face gets its track id and smoothed label (track, smoothed_label, …)",
        ),
    ) -> JSONResponse:
        settings = chosen
        if min_face is not None:
            if min_face < limits.smallest_min_face:
                raise RequestError(
                    UNPROCESSABLE,
                    "invalid_parameter",
                    f"min_face: at least {limits.smallest_min_face} on this server (smaller faces cost more time)",
                )
            settings = choose_detector(loaded.preprocessing, detector, min_face)
        uploads = await read_uploads(request, limits)
        result = await service.predict(uploads, detect=detect, detector=settings)
        for frame in result.results if track else []:
            sessions.follow(track, frame, loaded.class_names)
        return JSONResponse(result.to_dict())

    @app.get("/health", summary="Is the server up; its limits and how much batching it does")
    async def health() -> dict:
        return {
            "status": "ok",
            "uptime_s": round(time.time() - service.started, 1),
            "backend": loaded.backend,
            "workers": service.workers,
            "batching": service.batcher.stats.to_dict(),
            "heap_trims": trimmer.trims,
            "limits": limits.to_dict(),
        }

    @app.get("/model", summary="The model: classes, what it was trained on, and the licence terms of that data")
    async def model_card() -> dict:
        return service.model_card()

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    @app.get("/sample.png", include_in_schema=False)
    async def sample() -> FileResponse:
        return FileResponse(SAMPLE_IMAGE, headers=PAGE_HEADERS)  # NASA's public-domain portrait, for the page

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def bounded(request: Request, call_next):
        """At most max_concurrent predictions at once (503 beyond); the page's headers on its assets."""
        if request.url.path != "/predict":
            response = await call_next(request)
            if request.url.path.startswith("/static/"):
                response.headers.update(PAGE_HEADERS)
            return response
        if not places.take():
            refused = busy(limits)
            return JSONResponse(refused.to_dict(), status_code=refused.status, headers={"Retry-After": "1"})
        try:
            return await call_next(request)
        finally:
            places.give_back()

    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every error as {"error": code, "detail": one line}: the limits', FastAPI's own and the unexpected."""

    @app.exception_handler(RequestError)
    async def refused(_request: Request, e: RequestError) -> JSONResponse:
        return JSONResponse(e.to_dict(), status_code=e.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, e: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(x) for x in err['loc'][1:])}: {err['msg']}" for err in e.errors())
        return JSONResponse({"error": "invalid_parameter", "detail": problems}, status_code=UNPROCESSABLE)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, e: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(e.status_code, f"http_{e.status_code}")
        return JSONResponse({"error": code, "detail": str(e.detail)}, status_code=e.status_code, headers=e.headers)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, e: Exception) -> JSONResponse:
        # The traceback goes to the server's log (uvicorn prints it); the client gets one line.
        return JSONResponse(
            {"error": "internal_error", "detail": f"the server failed on this request ({type(e).__name__})"},
            status_code=INTERNAL_ERROR,
        )
