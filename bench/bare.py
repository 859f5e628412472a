"""Ceilings measured in the same run: a bare Temporal workflow and a bare Litestar route."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench.noop")
def noop(step: int) -> int:
    return step


@workflow.defn(name="BareWorkflow")
class BareWorkflow:
    """As many sequential activities as the real workflow runs, doing nothing."""

    @workflow.run
    async def run(self, activities: int) -> int:
        total = 0
        for step in range(activities):
            total += await workflow.execute_activity(
                "bench.noop", step, result_type=int, start_to_close_timeout=timedelta(seconds=30)
            )
        return total


def bare_litestar_app():
    """The same JSON shape as a list page, with no auth, database or middleware."""
    from litestar import Litestar, get

    @get("/api/orders")
    async def orders() -> dict[str, object]:
        return {"items": [{"id": i, "status": "received"} for i in range(20)], "total": 20}

    return Litestar([orders], openapi_config=None)
