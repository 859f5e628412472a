"""A small chaos run (10 orders, two worker kills, the Temporal and PostgreSQL restarts, provider
faults): every check row must pass. The full bar is `make chaos` (100 orders)."""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]


def test_small_chaos_run_passes_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.chaos import main

    base = os.environ.get("CHAOS_TEST_PORT_BASE", "22150")
    environ_before = dict(os.environ)
    code = main(["--orders", "10", "--worker-kills", "2", "--kill-every", "8", "--port-base", base])
    out = capsys.readouterr().out
    print(out)
    assert "FAIL " not in out
    assert code == 0
    # the stack's settings (APP_ENV=development, its ports) must not leak into later tests
    assert dict(os.environ) == environ_before
