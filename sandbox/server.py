"""Running the sandbox: the emulators on one port (uvicorn), and for tests and benchmarks the
local S3 server (SeaweedFS `weed mini`, see `sandbox/local_s3.py`) beside them."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import uvicorn

from config import Settings
from sandbox.app import create_sandbox_app
from sandbox.core import SandboxContext
from sandbox.local_s3 import LocalS3
from sandbox.local_s3 import free_port as free_port  # re-exported (bench.util)
from sandbox.local_s3 import free_port_block as free_port_block


def run_sandbox(settings: Settings, host: str = "127.0.0.1") -> None:
    """Blocking: what `worlddoor sandbox` runs (the emulators; S3 is `worlddoor local-s3`)."""
    app = create_sandbox_app(settings)
    uvicorn.run(app, host=host, port=settings.sandbox_port, log_level="warning", lifespan="on")


@dataclass
class RunningSandbox:
    base_url: str
    s3_url: str
    ctx: SandboxContext
    s3: LocalS3
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.s3.stop()


def start_sandbox_in_thread(settings: Settings) -> RunningSandbox:
    """For tests and benchmarks: the local S3 server (a child process, data under
    `var_dir/s3`) and the emulators in this process, on the ports in `settings`."""
    host = "127.0.0.1"
    s3 = LocalS3(settings)
    s3.start()
    try:
        s3.wait_ready()
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
    except BaseException:
        s3.stop()
        raise
    return RunningSandbox(
        base_url=f"http://{host}:{settings.sandbox_port}",
        s3_url=s3.endpoint,
        ctx=app.ctx,
        s3=s3,
        _server=server,
        _thread=thread,
    )
