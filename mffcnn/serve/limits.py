"""What one request may cost, and the JSON error that says which limit it hit.

A request's cost is bounded before the work starts, and so is what all requests in progress hold together
(at most max_concurrent of them, each with at most max_body_bytes of body; one more is answered 503): its body is counted while it arrives (413 as soon as it
passes the limit, or at once from a Content-Length that says so), and the pixels of its images are read
from their headers before anything is decoded (413). What is not an image is refused before OpenCV sees it
(415); a request with no file at all is 422. Every error is the same small JSON document,
`{"error": code, "detail": one line}`, never a traceback.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from mffcnn.data.images import MAX_PIXELS, MEGA

MB = 1_000_000
MAX_BODY_BYTES = 20 * MB  # twenty phone photos' worth of JPEG
MAX_FILES = 32  # files in one multipart request: each costs a temporary file and a header read
# Requests to /predict in progress at once; one more is answered 503 at once. Bounds what all of them hold
# together: bodies being received (up to max_body_bytes each) and images waiting for a worker thread.
MAX_CONCURRENT = 64
# Seconds a request's body may take to arrive: a client that announces a body and sends it slowly, or never
# (slowloris), would otherwise hold one of the max_concurrent places for as long as it likes. 20 MB at
# 10 Mbit/s takes 16 s.
BODY_SECONDS = 30.0
# The smallest face a request may ask to find (min_face): smaller faces need the image at a higher
# resolution for the detector (predict.faces.detector_for_min_face: 0.02 → 1,600 px), and time grows with it.
SMALLEST_MIN_FACE = 0.02

# HTTP status of each way a request can fail.
PAYLOAD_TOO_LARGE = 413
UNSUPPORTED_MEDIA_TYPE = 415
UNPROCESSABLE = 422
BAD_REQUEST = 400
URI_TOO_LONG = 414
HEADERS_TOO_LARGE = 431
REQUEST_TIMEOUT = 408
INTERNAL_ERROR = 500
BUSY = 503


@dataclass(frozen=True)
class Limits:
    """The limits of one server; every one is configurable (`mffcnn serve --max-body-mb …`)."""

    max_body_bytes: int = MAX_BODY_BYTES
    max_pixels: int = MAX_PIXELS  # decoded pixels of all the images of one request together
    max_files: int = MAX_FILES
    max_concurrent: int = MAX_CONCURRENT
    body_seconds: float = BODY_SECONDS
    smallest_min_face: float = SMALLEST_MIN_FACE

    def to_dict(self) -> dict:
        """As /health shows them, in the units people think in."""
        return {**asdict(self), "max_body_mb": self.max_body_bytes / MB, "max_megapixels": self.max_pixels / MEGA}


class RequestError(Exception):
    """A request the server refuses: its HTTP status, a short machine-readable code and a one-line detail."""

    def __init__(self, status: int, code: str, detail: str):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail

    def to_dict(self) -> dict:
        return {"error": self.code, "detail": self.detail}


def body_too_large(limits: Limits, what: str = "request body") -> RequestError:
    return RequestError(
        PAYLOAD_TOO_LARGE, "body_too_large", f"{what} is over this server's limit of {limits.max_body_bytes / MB:g} MB"
    )


def busy(limits: Limits) -> RequestError:
    return RequestError(
        BUSY, "busy", f"this server is answering {limits.max_concurrent} requests already; try again in a moment"
    )


def too_many_pixels(pixels: int, limits: Limits) -> RequestError:
    return RequestError(
        PAYLOAD_TOO_LARGE,
        "too_many_pixels",
        f"the images of this request have {pixels / MEGA:,.1f} megapixels (read from their headers); this "
        f"server decodes at most {limits.max_pixels / MEGA:g} per request",
    )
