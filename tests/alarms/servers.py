"""Real local peers for the notification adapters: an HTTP endpoint and an SMTP sink."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@contextmanager
def http_endpoint(
    answer: Callable[[dict[str, Any]], tuple[int, dict[str, Any]]],
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Serve POST requests on localhost; ``answer(body) -> (status, json)``; yields (url, received)."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length).decode("utf-8"))
            body["_headers"] = dict(self.headers)
            received.append(body)
            status, reply = answer(body)
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/send", received
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def smtp_sink() -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """A minimal SMTP server that accepts every message; yields (port, messages)."""
    messages: list[dict[str, Any]] = []

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write((line + "\r\n").encode())

        def handle(self) -> None:
            self.reply("220 sink ESMTP")
            sender, rcpts = "", []
            while True:
                raw = self.rfile.readline()
                if not raw:
                    return
                line = raw.decode("utf-8", "replace").strip()
                verb = line.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 sink")
                elif verb == "MAIL":
                    sender = line[10:]
                    self.reply("250 OK")
                elif verb == "RCPT":
                    rcpts.append(line[8:])
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 go ahead")
                    data = b""
                    while not data.endswith(b"\r\n.\r\n"):
                        chunk = self.rfile.readline()
                        if not chunk:
                            return
                        data += chunk
                    messages.append({"from": sender, "to": rcpts, "data": data.decode("utf-8", "replace")})
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 OK")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], messages
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
