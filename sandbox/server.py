"""Running the sandbox: emulators on one port (uvicorn) and moto's S3 server on another."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn

from config import Settings
from sandbox.app import create_sandbox_app
from sandbox.core import SandboxContext


def start_s3_server(host: str, port: int):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server


def run_sandbox(settings: Settings, host: str = "127.0.0.1") -> None:
    """Blocking: what `worlddoor sandbox` runs."""
    s3 = start_s3_server(host, settings.sandbox_s3_port)
    try:
        app = create_sandbox_app(settings)
        uvicorn.run(app, host=host, port=settings.sandbox_port, log_level="warning", lifespan="on")
    finally:
        s3.stop()


@dataclass
class RunningSandbox:
    base_url: str
    s3_url: str
    ctx: SandboxContext
    _server: uvicorn.Server
    _thread: threading.Thread
    _s3: object

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._s3.stop()  # type: ignore[attr-defined]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sandbox_in_thread(settings: Settings) -> RunningSandbox:
    """For tests and benchmarks: the sandbox on the ports in `settings`, in this process."""
    host = "127.0.0.1"
    s3 = start_s3_server(host, settings.sandbox_s3_port)
    app = create_sandbox_app(settings)
    config = uvicorn.Config(
        app, host=host, port=settings.sandbox_port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="sandbox", daemon=True)
    thread.start()
    deadline = time.time() + 15
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError(f"sandbox did not start on port {settings.sandbox_port}")
        time.sleep(0.05)
    return RunningSandbox(
        base_url=f"http://{host}:{settings.sandbox_port}",
        s3_url=f"http://{host}:{settings.sandbox_s3_port}",
        ctx=app.ctx,
        _server=server,
        _thread=thread,
        _s3=s3,
    )
