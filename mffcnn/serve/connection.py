"""One HTTP connection, before its request reaches the app: the places it takes, how long its head may take,
and the JSON it is answered with when it goes wrong there.

uvicorn's h11 protocol, with three changes (uvicorn takes the protocol class: `uvicorn.run(app, http=...)`):

- A connection waiting for its request's head (a new one, or a kept-alive one once the next head's first
  byte is in) holds one of the server's `max_concurrent` places, the same places the predictions in progress
  hold (`Places`); a connection that finds them all taken is answered 503 at once and closed. A client
  that opens connections and sends nothing (or a byte now and then) cannot hold more than that, and cannot
  starve the server of file descriptors.
- The head must arrive within `body_seconds` of the connection starting to wait for it (h11 has no such
  limit, and uvicorn's keep-alive timeout stops counting at the first byte): later, the connection gets 408
  and is closed, or is just closed when it sent nothing (as a kept-alive connection that is not used again).
- Where uvicorn answers a request it cannot parse with a text/plain 400, this protocol answers JSON like every
  other error: 414 when the request line alone is over the head limit (`HEAD_BYTES`), 431 when the head is,
  400 for anything else that is not HTTP/1.1.
"""

from __future__ import annotations

import json
from http import HTTPStatus

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from mffcnn.serve.limits import (
    BAD_REQUEST,
    HEADERS_TOO_LARGE,
    REQUEST_TIMEOUT,
    URI_TOO_LONG,
    Limits,
    RequestError,
    busy,
)
from mffcnn.serve.memory import HeapTrimmer

# The most bytes of a request's head (its request line and headers) h11 keeps while waiting for the rest; more:
# 414 or 431. h11's own default (16 KiB), stated here so that the messages can name it: browsers send 1-2 kB.
HEAD_BYTES = 16 * 1024
LINGER = 1.0  # s a refused connection stays open, its input discarded, so that the client reads the answer


class Places:
    """The server's places: one for each connection waiting for its request's head, one for each prediction in
    progress; at most `limit` at once. Used only from the event loop's thread (no lock)."""

    def __init__(self, limit: int, trimmer: HeapTrimmer | None = None):
        self.limit, self.taken, self.trimmer = limit, 0, trimmer

    def take(self) -> bool:
        if self.taken >= self.limit:
            return False
        self.taken += 1
        if self.trimmer:
            self.trimmer.busy()
        return True

    def give_back(self) -> None:
        self.taken -= 1
        if self.taken == 0 and self.trimmer:
            self.trimmer.idle()  # nothing in progress: the memory the last requests freed goes back to the OS


def json_error(error: RequestError, *, extra: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A whole HTTP/1.1 response, `{"error": code, "detail": one line}` with Connection: close, as bytes: for the
    answers written before h11 has a request to answer."""
    body = json.dumps(error.to_dict()).encode()
    head = [f"HTTP/1.1 {error.status} {HTTPStatus(error.status).phrase}"]
    head += [f"{k}: {v}" for k, v in (*_json_headers(body), *extra)]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _json_headers(body: bytes) -> tuple[tuple[str, str], ...]:
    return ("content-type", "application/json"), ("content-length", str(len(body))), ("connection", "close")


def head_error(buffered: bytes, head_bytes: int) -> RequestError:
    """What was wrong with a request h11 could not parse, from the bytes it had buffered."""
    if len(buffered) > head_bytes:
        if not 0 <= buffered.find(b"\n") <= head_bytes:
            return RequestError(
                URI_TOO_LONG,
                "request_line_too_long",
                f"the request line is over this server's limit of {head_bytes:,} bytes",
            )
        return RequestError(
            HEADERS_TOO_LARGE,
            "headers_too_large",
            f"the request's headers are over this server's limit of {head_bytes:,} bytes",
        )
    return RequestError(BAD_REQUEST, "bad_request", "the request is not valid HTTP/1.1")


def protocol_for(places: Places, limits: Limits) -> type[H11Protocol]:
    """uvicorn's h11 protocol, counting its connections in `places` and holding them to `limits.body_seconds`
    for their heads (see the module's docstring)."""

    class Connection(H11Protocol):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.holds_place = False
            self.head_timer = None
            self.refused = False
            self.waiting_after = None  # the request/response cycle after which the wait for the next head began

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            if not places.take():
                self._answer_and_close(json_error(busy(limits), extra=(("retry-after", "1"),)))
                return
            self.holds_place = True
            self._wait_for_head()

        def _answer_and_close(self, response: bytes) -> None:
            """Write `response`, half-close, discard what the client still sends, close shortly: an abrupt close
            with the client's data unread would reset the connection, and the client might never read it."""
            self.refused = True
            self._head_arrived()  # its place and its timer go: the connection is done with
            self.transport.write(response)
            try:
                self.transport.write_eof()
            except OSError:  # the client is gone already
                self.transport.close()
                return
            self.loop.call_later(LINGER, self.transport.close)

        def _wait_for_head(self) -> None:
            self.waiting_after = self.cycle
            if self.head_timer is None:
                self.head_timer = self.loop.call_later(limits.body_seconds, self._head_too_slow)

        def _head_arrived(self) -> None:
            if self.head_timer is not None:
                self.head_timer.cancel()
                self.head_timer = None
            if self.holds_place:
                places.give_back()
                self.holds_place = False

        def _head_too_slow(self) -> None:
            self.head_timer = None
            if self.transport.is_closing():
                return
            if self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:
                detail = f"the request's head did not arrive within {limits.body_seconds:g} s"
                self._answer_and_close(json_error(RequestError(REQUEST_TIMEOUT, "headers_too_slow", detail)))
                return
            # Nothing of a head received (a kept-alive connection not used again), or the rest of a body the
            # server has answered already: closed without a word.
            self.transport.close()

        def data_received(self, data: bytes) -> None:
            if self.refused:
                return  # discarded: the answer is written
            if self.head_timer is not None and not self.holds_place:  # the first byte after a kept-alive pause
                if not places.take():
                    self._answer_and_close(json_error(busy(limits), extra=(("retry-after", "1"),)))
                    return
                self.holds_place = True
            if self.conn.their_state is h11.IDLE and self._head_too_large(data):
                return
            super().data_received(data)
            if self.cycle is not self.waiting_after or self.transport.is_closing():
                self._head_arrived()  # a new request is in the app's hands (or the connection is done)

        def _head_too_large(self, data: bytes) -> bool:
            """h11 checks the head's size only while it is incomplete, so a long head that arrives in one piece
            passes: measured here, whole or not. True: answered (414 or 431) and closed."""
            buffered = self.conn.trailing_data[0] + data
            ends = [i for i in (buffered.find(b"\n\r\n"), buffered.find(b"\n\n")) if i >= 0]
            head = buffered[: min(ends) + 1] if ends else buffered
            if len(head) <= HEAD_BYTES:
                return False
            self._answer_and_close(json_error(head_error(head, HEAD_BYTES)))
            return True

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.transport.is_closing() or not self.cycle.response_complete:
                return  # closed, or a pipelined request already in the app's hands
            # Kept alive: waiting for the next request's head (or the rest of a body answered early, 413 or
            # 408), timed from now; a place again from its first byte (an idle kept-alive connection is closed
            # by uvicorn after --timeout-keep-alive, 5 s, and holds no place meanwhile).
            self._wait_for_head()

        def connection_lost(self, exc: Exception | None) -> None:
            self._head_arrived()
            super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            error = head_error(self.conn.trailing_data[0], HEAD_BYTES)
            body = json.dumps(error.to_dict()).encode()
            reason = HTTPStatus(error.status).phrase.encode()
            self.transport.write(
                self.conn.send(h11.Response(status_code=error.status, headers=_json_headers(body), reason=reason))
            )
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
            self.transport.close()

    return Connection


def run_server(app, *, host: str, port: int) -> None:
    """`app` (from create_app) served by uvicorn on host:port, its connections held by this module's protocol."""
    import uvicorn

    protocol = protocol_for(app.state.places, app.state.limits)
    uvicorn.run(
        app,
        host=host,
        port=port,
        http=protocol,
        ws="none",  # no WebSocket routes: an upgrade request is plain HTTP here, and its place is given back
        h11_max_incomplete_event_size=HEAD_BYTES,
        log_level="warning",
        access_log=False,
    )
