"""Local stand-ins for where alerts go: a webhook receiver (HTTP) and an SMTP server, each
started on a free port for one test and stopped after it. They record what they receive."""

from __future__ import annotations

import contextlib
import json
import socketserver
import threading
from collections.abc import Iterator
from email import message_from_string
from email.message import Message
from http.server import BaseHTTPRequestHandler, HTTPServer


@contextlib.contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[dict]]]:
    """The URL of a local webhook and the JSON bodies posted to it, in order."""
    posted: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            posted.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", posted
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def smtp_receiver() -> Iterator[tuple[int, list[Message]]]:
    """The port of a local SMTP server and the messages it accepted, in order: just enough
    of the protocol for smtplib (EHLO, MAIL, RCPT, DATA, QUIT)."""
    received: list[Message] = []

    class Session(socketserver.StreamRequestHandler):
        def handle(self):
            self.wfile.write(b"220 test SMTP\r\n")
            body: list[str] | None = None
            while line := self.rfile.readline():
                if body is not None:
                    if line.rstrip(b"\r\n") == b".":
                        received.append(message_from_string("".join(body)))
                        body = None
                        self.wfile.write(b"250 accepted\r\n")
                    else:
                        body.append(line.decode().replace("\r\n", "\n"))
                    continue
                command = line[:4].upper()
                if command == b"DATA":
                    body = []
                    self.wfile.write(b"354 end with a dot\r\n")
                elif command == b"QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 ok\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], received
    finally:
        server.shutdown()
        server.server_close()
