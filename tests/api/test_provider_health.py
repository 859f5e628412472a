"""Provider health for admins: the doctor's checks in the API process, a failing provider shown
as a failed row (not an error), the report cached and refreshed on request."""

from __future__ import annotations

from ops.doctor import CHECKS


async def test_health_report_is_cached_and_refreshed(client, logged_in):
    admin = await logged_in("admin")
    first = await client.get("/api/operations/health", headers=admin.headers)
    assert first.status_code == 200, first.text
    report = first.json()
    checks = {c["name"]: c for c in report["checks"]}
    assert list(checks) == [name for name, _ in CHECKS]
    assert checks["database"]["ok"] and "migrated" in checks["database"]["detail"]
    # This app's Temporal address answers nothing: a failed row, the page still answers.
    assert checks["temporal"]["ok"] is False and checks["temporal"]["detail"]
    cached = await client.get("/api/operations/health", headers=admin.headers)
    assert cached.json()["checked_at"] == report["checked_at"]
    fresh = await client.get(
        "/api/operations/health", headers=admin.headers, params={"refresh": "true"}
    )
    assert fresh.json()["checked_at"] > report["checked_at"]
    bad = await client.get(
        "/api/operations/health", headers=admin.headers, params={"refresh": "perhaps"}
    )
    assert bad.status_code == 400


async def test_health_report_is_for_admins_only(client, logged_in):
    staff = await logged_in("staff")
    assert (await client.get("/api/operations/health", headers=staff.headers)).status_code == 403
    assert (await client.get("/api/operations/health")).status_code == 401


async def test_checks_run_off_the_callers_loop_and_a_hung_one_is_a_row(settings, monkeypatch):
    """A check that blocks its thread (as boto3 or a client constructor does) neither runs on
    the API's event loop nor holds the report past its timeout."""
    import threading

    from api import provider_health as module

    caller = threading.get_ident()
    seen: list[int] = []
    release = threading.Event()

    async def records(_settings, _fix) -> str:
        seen.append(threading.get_ident())
        return "answered"

    async def blocks(_settings, _fix) -> str:
        release.wait(30)  # a blocking call, not an await
        return "too late"

    monkeypatch.setattr(module, "CHECKS", [("quick", records), ("stuck", blocks)])
    health = module.ProviderHealth(settings, timeout=0.2)
    try:
        report = await health.report()
    finally:
        release.set()
    rows = {c.name: c for c in report.checks}
    assert rows["quick"].ok and rows["quick"].detail == "answered"
    assert not rows["stuck"].ok and rows["stuck"].detail == "no answer within 0.2 s"
    assert seen and caller not in seen
