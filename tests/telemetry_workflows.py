"""A sandboxed workflow for tests/test_telemetry.py (its own module, so the sandbox imports only
this): a log-context activity, then, for order ids starting with "fail", a label purchase the
carrier refuses."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel


class Shipment(BaseModel):
    order_id: str
    buyer_name: str
    buyer_email: str


@workflow.defn(name="TelemetryTestLabel")
class LabelWorkflow:
    @workflow.run
    async def run(self, shipment: Shipment) -> dict[str, str]:
        context: dict[str, str] = await workflow.execute_activity(
            "telemetry_test_log_context",
            shipment,
            start_to_close_timeout=timedelta(seconds=10),
            result_type=dict,
        )
        if shipment.order_id.startswith("fail"):
            await workflow.execute_activity(
                "telemetry_test_buy_label",
                shipment,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_attempts=3),
            )
        return context
