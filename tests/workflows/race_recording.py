"""What the race recorders (record_inspection_races.py, record_fulfillment_races.py) share: a
dev server of their own, and a workflow-only worker in a subprocess that they freeze or kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from temporal_client import search_attribute_flags, temporal_binary


async def start_dev_server(port: int) -> WorkflowEnvironment:
    """The real dev server on `port` (HTTP and metrics on the next two), our search attributes."""
    return await WorkflowEnvironment.start_local(
        port=port,
        ui=False,
        dev_server_existing_path=temporal_binary(),
        data_converter=pydantic_data_converter,
        dev_server_extra_args=[
            "--http-port",
            str(port + 1),
            "--metrics-port",
            str(port + 2),
            *search_attribute_flags(),
        ],
    )


def spawn_worker(module: str, address: str, task_queue: str) -> subprocess.Popen[bytes]:
    """`python -m module worker address task_queue`: the recorder's own workflow-only worker."""
    return subprocess.Popen([sys.executable, "-m", module, "worker", address, task_queue])


def kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
