"""`mffcnn serve`: classify faces over HTTP, with a page that shows them live (library: mffcnn.serve).

Serve the bundled model (or your own: a checkpoint, an .onnx file — int8 included — or TorchScript) at
http://HOST:PORT: POST /predict with images, the page at /, OpenAPI docs at /docs.
"""

from __future__ import annotations

from mffcnn.commands import values
from mffcnn.errors import MffcnnError

DEFAULT_HOST = "127.0.0.1"  # this machine only; --host 0.0.0.0 to serve the network
DEFAULT_PORT = 8000


def register(sub) -> None:
    from mffcnn.commands.predict import add_detector_arg, add_flip_arg, add_max_megapixels
    from mffcnn.serve.limits import BODY_SECONDS, MAX_BODY_BYTES, MAX_CONCURRENT, MAX_FILES, MB

    p = sub.add_parser(
        "serve", help="serve predictions over HTTP, with a web page (upload or camera)", description=__doc__
    )
    p.add_argument("--model", help="a checkpoint, or a file from mffcnn export (default: the bundled model)")
    p.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST}, this machine only)"
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="N", help=f"port (default: {DEFAULT_PORT})")
    p.add_argument(
        "--threads",
        type=values.COUNT,
        help="worker threads that decode and detect, and the network's threads (default: all cores)",
    )
    p.add_argument(
        "--max-body-mb",
        type=values.POSITIVE,
        default=MAX_BODY_BYTES / MB,
        metavar="MB",
        help=f"largest request body (default: {MAX_BODY_BYTES / MB:g}); larger: 413",
    )
    add_max_megapixels(p, "most pixels the images of one request may decode to, read from their headers; more: 413")
    add_detector_arg(p)
    add_flip_arg(p)
    p.add_argument(
        "--max-files",
        type=values.COUNT,
        default=MAX_FILES,
        metavar="N",
        help=f"most files in one request (default: {MAX_FILES})",
    )
    p.add_argument(
        "--max-concurrent",
        type=values.COUNT,
        metavar="N",
        default=MAX_CONCURRENT,
        help=f"most predictions in progress at once; more: 503 (default: {MAX_CONCURRENT})",
    )
    p.add_argument(
        "--body-timeout",
        type=values.POSITIVE,
        default=BODY_SECONDS,
        metavar="SECONDS",
        help=f"most seconds a request's body may take to arrive; slower: 408 (default: {BODY_SECONDS:g})",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from mffcnn.commands.predict import flip_of
    from mffcnn.data.images import MEGA
    from mffcnn.serve import Limits, create_app
    from mffcnn.serve.connection import run_server
    from mffcnn.serve.limits import MB

    if not 0 < args.port < 65536:
        raise MffcnnError("--port must be between 1 and 65535")
    limits = Limits(
        max_body_bytes=round(args.max_body_mb * MB),
        max_pixels=round(args.max_megapixels * MEGA),
        max_files=args.max_files,
        max_concurrent=args.max_concurrent,
        body_seconds=args.body_timeout,
    )
    app = create_app(args.model, limits=limits, threads=args.threads, detector=args.detector, flip=flip_of(args))
    print(f"mffcnn serve: http://{args.host}:{args.port}/ (the page), /docs (the API); Ctrl-C stops", flush=True)
    try:
        run_server(app, host=args.host, port=args.port)
    except SystemExit as e:  # uvicorn exits when it cannot bind (the port is taken): say it in one line
        raise MffcnnError(
            f"cannot listen on {args.host}:{args.port} (in use, or not an address of this machine)"
        ) from e
    return 0
