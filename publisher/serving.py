"""uvicorn in a background thread: shared by the sandbox and the preview server (tests, benchmarks,
the embedded sandbox of a publish run)."""

from __future__ import annotations

import threading
import time


def start_in_thread(server, name: str, what: str, host: str, port: int,
                    timeout: float = 15) -> tuple[threading.Thread, int]:
    """Run `server` (a uvicorn.Server) in a daemon thread; returns once it accepts connections,
    with the port it bound (port 0 lets the OS choose)."""
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"{what} did not start on {host}:{port}")
        time.sleep(0.005)
    return thread, server.servers[0].sockets[0].getsockname()[1]


class StoppableServer:
    """For dataclasses holding `_server` and `_thread`: `stop()`, and use as a context manager."""

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
