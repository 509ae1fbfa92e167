"""A small process supervisor for ``totalcap run``: start the platform's processes, stream their
output with a name prefix, and stop them all cleanly on Ctrl-C or when one of them dies."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

logger = logging.getLogger("totalcap.run")


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None


class Supervisor:
    """Starts children, forwards their output, and stops them in reverse order."""

    def __init__(self, children: Sequence[Child], *, stop_timeout: float = 15.0) -> None:
        self.children = list(children)
        self.stop_timeout = stop_timeout
        self._stopping = threading.Event()
        self.exit_code = 0

    def _pump(self, child: Child) -> None:
        assert child.process is not None and child.process.stdout is not None
        for raw in iter(child.process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            sys.stdout.write(f"[{child.name}] {line}\n")
            sys.stdout.flush()

    def start(self) -> None:
        for child in self.children:
            env = {**os.environ, **child.env}
            child.process = subprocess.Popen(
                child.argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops the children
            )
            threading.Thread(target=self._pump, args=(child,), daemon=True).start()
            logger.info("started %s (pid %s)", child.name, child.process.pid)

    def wait(self) -> int:
        def on_signal(signum: int, frame: object) -> None:
            self._stopping.set()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        while not self._stopping.is_set():
            for child in self.children:
                assert child.process is not None
                code = child.process.poll()
                if code is not None:
                    logger.error("%s exited with code %s; stopping everything", child.name, code)
                    self.exit_code = code or 1
                    self._stopping.set()
                    break
            self._stopping.wait(0.5)
        self.stop()
        return self.exit_code

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.process and child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for child in reversed(self.children):
            if child.process is None:
                continue
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(remaining)
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in time; killing it", child.name)
                child.process.kill()
                child.process.wait()
        logger.info("all processes stopped")
