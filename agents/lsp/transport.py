"""Reading LSP messages from stdin so that one badly framed message costs only itself.

pygls' stdio loop reads exactly ``Content-Length`` bytes after each header. A header that
promises more bytes than its body has makes it wait for, then swallow, the well-formed
messages that follow (as their own bytes), until enough bytes arrive to complete the count.
This loop reads whatever is available instead and looks for the next header in it: a
``Content-Length: N`` line ending in a raw line break cannot occur inside a JSON body (JSON
strings hold no raw line breaks, and those words are not JSON outside a string), so finding
one means the previous body ended there. That message is answered with a parse error (when
its id can be read) and reading goes on at the header; a short body followed by nothing gets
the same answer once no byte has come for a moment and what came is a whole JSON value. A
``Content-Length`` shorter than its body, and bytes that are not a message at all, are skipped
up to the next header the same way.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import threading
from dataclasses import dataclass
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

_HEADER = re.compile(rb"Content-Length:[ \t]*(\d+)[ \t]*\r\n", re.IGNORECASE)
_ID = re.compile(rb'"id"\s*:\s*(-?\d+|"(?:[^"\\\r\n]|\\.)*")')
MAX_HEADER_BYTES = 4096  # a header block longer than this is not one
PARSE_ERROR = -32700
READ_CHUNK = 1 << 16
STALL_S = 2.0  # a body left short this long, yet whole JSON, is taken as finished


@dataclass
class Frame:
    """One message body as framed by its header, or a framing problem with the bytes that
    were taken as its body."""

    body: bytes
    problem: str | None = None


class MessageFramer:
    """Splits a byte stream into message bodies, resynchronizing at the next valid header."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self.buffer += data

    def next_frame(self) -> Frame | None:
        """The next complete frame, or None until more bytes arrive."""
        while True:
            header = _HEADER.search(self.buffer)
            if header is None:
                self._drop_garbage(max(0, len(self.buffer) - 64))  # keep a split header
                return None
            if header.start() > 0:
                self._drop_garbage(header.start())
                continue
            end = self.buffer.find(b"\r\n\r\n", header.end() - 2)
            if end < 0:
                if len(self.buffer) > MAX_HEADER_BYTES:
                    self._drop_garbage(header.end())  # not a header block: look further
                    continue
                return None
            return self._body(int(header.group(1)), end + 4)

    def _body(self, length: int, start: int) -> Frame | None:
        """The body after a header block ending at ``start``: complete, cut short by the next
        header, or None while neither."""
        window = bytes(self.buffer[start:start + length])
        following = _HEADER.search(window)
        if following is not None:  # the next message began before the promised length
            body = window[:following.start()]
            del self.buffer[:start + following.start()]
            return Frame(body, f"Content-Length {length} is larger than the message body "
                               f"({len(body)} bytes before the next header)")
        if len(window) < length:
            return None
        del self.buffer[:start + length]
        return Frame(window)

    def stalled_frame(self) -> Frame | None:
        """When no more bytes come: a body shorter than its header said but already a whole
        JSON value (the sender is done with it), else None."""
        header = _HEADER.match(self.buffer)
        end = self.buffer.find(b"\r\n\r\n", header.end() - 2) if header else -1
        if end < 0:
            return None
        body = bytes(self.buffer[end + 4:])
        try:
            json.loads(body)
        except ValueError:
            return None  # still arriving
        del self.buffer[:]
        return Frame(body, f"Content-Length {header.group(1).decode()} is larger than the "
                           f"message body ({len(body)} bytes, then nothing more)")

    def _drop_garbage(self, count: int) -> None:
        if count and bytes(self.buffer[:count]).strip():
            log.warning("skipped %d bytes that are not an LSP message", count)
        del self.buffer[:count]


def request_id(body: bytes) -> int | str | None:
    """The id of a (possibly broken) JSON-RPC request, when it can be read from its text."""
    found = _ID.search(body)
    if found is None:
        return None
    try:
        return json.loads(found.group(1))
    except ValueError:
        return None


def handle_frame(protocol: Any, frame: Frame) -> None:
    """Decode and dispatch one frame; answer a parse error for one that cannot be read."""
    problem = frame.problem
    if problem is None:
        try:
            message = json.loads(frame.body, object_hook=protocol.structure_message)
        except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
            problem = f"the message is not JSON: {error}"
        else:
            protocol.handle_message(message)
            return
    answer_parse_error(protocol, frame.body, problem)


def answer_parse_error(protocol: Any, body: bytes, problem: str) -> None:
    """A -32700 response to the request the bytes seem to be, else a log line."""
    from lsprotocol.types import ResponseError

    msg_id = request_id(body)
    log.warning("unreadable message (id %s): %s", msg_id, problem)
    if msg_id is not None:
        protocol._send_response(msg_id, error=ResponseError(PARSE_ERROR, f"Parse error: {problem}"))


async def read_loop(server: Any, stdin: BinaryIO, stop_event: threading.Event) -> None:
    """Read stdin until it closes (or ``exit``), dispatching every frame."""
    loop = asyncio.get_running_loop()
    framer = MessageFramer()
    read = getattr(stdin, "read1", stdin.read)
    pending: asyncio.Future | None = None
    while not stop_event.is_set():
        frame = framer.next_frame()
        if frame is None:
            if pending is None:
                pending = loop.run_in_executor(server.thread_pool, read, READ_CHUNK)
            done, _ = await asyncio.wait({pending}, timeout=STALL_S)
            if not done:
                frame = framer.stalled_frame()
                if frame is None:
                    continue
            else:
                data, pending = pending.result(), None
                if not data:
                    break
                framer.feed(data)
                continue
        try:
            handle_frame(server.protocol, frame)
        except Exception as error:  # one bad message must not stop the server
            log.exception("unable to handle a message")
            server.report_server_error(error, type(error))


def serve_stdio(server: Any, stdin: BinaryIO | None = None,
                stdout: BinaryIO | None = None) -> None:
    """pygls' ``start_io`` with :func:`read_loop` as its reader."""
    from pygls.io_ import StdoutWriter

    server._stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
    try:
        asyncio.run(read_loop(server, stdin or sys.stdin.buffer, server._stop_event))
    except BrokenPipeError:
        log.error("the connection to the client is lost; shutting down")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()
