"""`worlddoor dev` (make run): the Temporal dev server's output goes to var/temporal-dev.log, so
stopping it (Ctrl-C) prints none of its shutdown warnings on the terminal."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from config import Settings
from ops.dev import TEMPORAL_LOG, build_children, start, stop_all, wait_for_port


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.integration  # starts the Temporal dev server process
def test_temporal_dev_server_output_goes_to_a_log_file(tmp_path: Path, capfd) -> None:
    port = _free_port()
    settings = Settings(
        WORLDDOOR_VAR_DIR=tmp_path / "var",
        app_env="development",
        temporal_address=f"127.0.0.1:{port}",
        temporal_ui_port=_free_port(),
        temporal_db_file=str(tmp_path / "temporal.db"),
    )
    temporal = build_children(settings)[0]
    assert temporal.name == "temporal"
    assert temporal.log_file == settings.var_dir / TEMPORAL_LOG
    start(temporal)
    try:
        assert wait_for_port("127.0.0.1", port, 60), "the dev server did not come up"
    finally:
        stop_all([temporal])  # SIGTERM, as on Ctrl-C
    assert temporal.process is not None and temporal.process.returncode is not None
    terminal = capfd.readouterr()
    log = temporal.log_file.read_text()
    assert log.strip(), "the dev server wrote nothing at all"
    print(log[-1500:])
    for line in [line for line in log.splitlines() if line.strip()][:5]:
        assert line not in terminal.out and line not in terminal.err
    assert "level=WARN" not in terminal.out + terminal.err
    assert "Temporal Server" not in terminal.out + terminal.err
