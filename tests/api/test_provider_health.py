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
