"""`mffcnn serve`: the predictions of `mffcnn predict` over HTTP, and a page that shows them live.

    from mffcnn.serve import create_app, Limits
    app = create_app("model.onnx", limits=Limits(max_body_bytes=5_000_000))   # any ASGI server runs it
    # or: mffcnn serve --model model.onnx --port 8000

POST /predict takes images (multipart files, or the raw body) and answers with the schema of predict's
predictions.json; GET /health and GET /model describe the server and the model; the page at / uploads photos
or reads the browser's camera and draws each face's box, label and probabilities; /docs is the OpenAPI
documentation. Nothing is loaded from the internet, by the server or by the page.

The package, by concern: app.py (routes, errors, the page), service.py (the work of one request, off the
event loop), batching.py (faces of concurrent requests classified together), uploads.py (reading a request's
images under the body limit), limits.py (what a request may cost), connection.py (an HTTP connection before
its request reaches the app: the head's size and time, the places it holds), memory.py (freed memory given
back when idle), static/ (the page).
"""

from mffcnn.serve.app import create_app
from mffcnn.serve.limits import Limits, RequestError

__all__ = ["Limits", "RequestError", "create_app"]
