"""Deterministic workflow classes: the business processes, nothing else.

Workflows call activities by name only and exchange the plain pydantic models in
`workflows.contracts`; they never import adapters, database engines, httpx or boto3.
"""

from __future__ import annotations

import importlib

WORKFLOW_MODULES = (
    "workflows.listing",
    "workflows.bulk_listing",
    "workflows.email",
    "workflows.scheduled",
    "workflows.fulfillment",
    "workflows.label",
    "workflows.inspection",
    "workflows.backup",
)


def all_workflows() -> list[type]:
    """Every workflow class, for the worker and the replay tests."""
    found: list[type] = []
    for name in WORKFLOW_MODULES:
        found.extend(importlib.import_module(name).WORKFLOWS)
    return found
