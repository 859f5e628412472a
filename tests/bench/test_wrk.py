"""Reading wrk's summary (the API benchmark's numbers come from it)."""

from __future__ import annotations

import pytest

from bench.wrk import parse

OUTPUT = """Running 1s test @ http://127.0.0.1:23401/api/health
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.37ms    8.00ms  49.47ms   89.32%
    Req/Sec     1.49k     1.21k    4.12k    72.73%
  Latency Distribution
     50%  593.00us
     75%    4.10ms
     90%   13.19ms
     99%    1.20s
  1648 requests in 1.12s, 0.87MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1475.67
Transfer/sec:    801.24KB
"""


def test_parse_reads_rate_percentiles_in_milliseconds_and_failures() -> None:
    result = parse(OUTPUT)
    assert result.requests == 1648
    assert result.per_second == 1475.67
    assert result.p50_ms == pytest.approx(0.593)
    assert result.p99_ms == pytest.approx(1200.0)
    assert result.non_2xx == 3
    assert result.socket_errors == 0


def test_parse_counts_socket_errors_and_refuses_a_truncated_summary() -> None:
    with_errors = OUTPUT.replace(
        "Requests/sec:", "  Socket errors: connect 1, read 2, write 0, timeout 4\nRequests/sec:"
    )
    assert parse(with_errors).socket_errors == 7
    with pytest.raises(ValueError, match="unexpected wrk output"):
        parse(OUTPUT.split("Requests/sec")[0])


def test_process_tree_cpu_counts_the_processes_under_the_server() -> None:
    """The API bench's CPU figure: uvicorn's worker processes are children of the one started."""
    import subprocess
    import sys
    import time

    from bench.api_bench import process_tree_cpu

    burn = "import time\nx = 0\nwhile x < 20_000_000: x += 1\ntime.sleep(60)"
    parent = subprocess.Popen(  # noqa: S603 - our own interpreter
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}])",
        ]
    )
    try:
        deadline = time.monotonic() + 60
        # The parent only waits (well under 0.5 s of CPU): the figure must include the child's loop.
        while process_tree_cpu(parent.pid) < 0.5:
            assert parent.poll() is None, "the parent exited"
            assert time.monotonic() < deadline, "the child's CPU time was not counted"
            time.sleep(0.1)
    finally:
        parent.kill()
        parent.wait()
