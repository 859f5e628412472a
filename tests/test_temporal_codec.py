"""The payload codec: AES-256-GCM round trip, rotation by key id, tampering and unknown keys
refused, payloads written before encryption still readable, key specs validated."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag
from temporalio.api.common.v1 import Payload

from temporal_codec import ENCODING, KEY_ID, EncryptionCodec, parse_keys


def _spec(*ids: str) -> tuple[str, dict[str, str]]:
    keys = {key_id: base64.b64encode(os.urandom(32)).decode() for key_id in ids}
    return ",".join(f"{k}:{v}" for k, v in keys.items()), keys


PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"to_name":"Hanako Yamada"}')


async def test_round_trip_hides_the_data_and_its_metadata() -> None:
    spec, _ = _spec("2026-12")
    codec = EncryptionCodec.from_spec(spec)
    (sealed,) = await codec.encode([PLAIN])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"2026-12"
    assert b"Hanako" not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.data
    (opened,) = await codec.decode([sealed])
    assert opened == PLAIN
    (again,) = await codec.encode([PLAIN])
    assert again.data != sealed.data  # a fresh nonce every time


async def test_rotation_new_key_first_still_reads_the_old_ones() -> None:
    old_spec, old = _spec("2026-06")
    (sealed_old,) = await EncryptionCodec.from_spec(old_spec).encode([PLAIN])
    new_spec = f"2026-12:{base64.b64encode(os.urandom(32)).decode()},2026-06:{old['2026-06']}"
    rotated = EncryptionCodec.from_spec(new_spec)
    assert (await rotated.decode([sealed_old])) == [PLAIN]
    (sealed_new,) = await rotated.encode([PLAIN])
    assert sealed_new.metadata[KEY_ID] == b"2026-12"
    with pytest.raises(ValueError, match="unknown key id '2026-12'"):
        await EncryptionCodec.from_spec(old_spec).decode([sealed_new])


async def test_tampering_is_detected_and_plain_payloads_pass() -> None:
    codec = EncryptionCodec.from_spec(_spec("k")[0])
    (sealed,) = await codec.encode([PLAIN])
    broken = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + b"\x00")
    with pytest.raises(InvalidTag):
        await codec.decode([broken])
    assert (await codec.decode([PLAIN])) == [PLAIN]  # history written before encryption


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no key"),
        ("k1", "key-id:base64-key"),
        ("k1:!!!", "not valid base64"),
        ("k1:" + base64.b64encode(b"x" * 16).decode(), "16 bytes"),
        ("k1:{0},k1:{0}".format(base64.b64encode(b"x" * 32).decode()), "twice"),
    ],
)
def test_bad_key_specs_are_refused(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_keys(spec)


async def test_namespace_retention_is_set(temporal_env) -> None:
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

    from temporal_client import ensure_namespace_retention

    client = temporal_env.client
    assert await ensure_namespace_retention(client, client.namespace, 30)
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace)
    )
    assert described.config.workflow_execution_retention_ttl.seconds == 30 * 24 * 3600
    assert await ensure_namespace_retention(client, client.namespace, 30)  # idempotent


def test_tls_follows_the_settings(settings, tmp_path) -> None:
    from temporalio.client import TLSConfig

    from temporal_client import tls_config

    assert tls_config(settings, api_key=False) is False
    assert isinstance(tls_config(settings, api_key=True), TLSConfig)
    (tmp_path / "c.pem").write_bytes(b"CERT")
    (tmp_path / "k.pem").write_bytes(b"KEY")
    mtls = settings.model_copy(
        update={
            "temporal_tls_client_cert": str(tmp_path / "c.pem"),
            "temporal_tls_client_key": str(tmp_path / "k.pem"),
        }
    )
    config = tls_config(mtls, api_key=False)
    assert isinstance(config, TLSConfig)
    assert config.client_cert == b"CERT" and config.client_private_key == b"KEY"
