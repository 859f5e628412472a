"""Ceilings measured in the same run: a bare Temporal workflow (the API's ceiling is its own
/api/health, see bench/api_bench.py)."""

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
