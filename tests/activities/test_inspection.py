"""Inspection activities: checklist rules, one row per order, presigned uploads checked in S3."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.inspection import checklist_for, safe_file_name
from tests.uploads import post_upload
from workflows.contracts.inspection import (
    CheckMedia,
    CreateInspection,
    PresignUploads,
    RecordEscalation,
    RecordInspection,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def acts(settings, migrated_db, sandbox) -> Any:
    from activities.deps import Dependencies
    from activities.inspection import InspectionActivities
    from adapters.s3 import Storage

    Storage(settings).ensure_bucket()
    return InspectionActivities(Dependencies(settings))


def test_checklist_follows_condition_and_category() -> None:
    from models import Condition, Product

    def keys(condition: Condition, category: str = "") -> list[str]:
        item = Product(
            sku="X", title_ja="x", price_jpy=1, condition=condition, category_hint=category
        )
        return [c.key for c in checklist_for([item])]

    new = keys(Condition.new)
    assert "sealed_unused" in new and "accessories_complete" not in new and "functions" in new
    parts = keys(Condition.for_parts)
    assert "functions" not in parts and "accessories_complete" in parts
    camera = checklist_for(
        [Product(sku="C", title_ja="c", price_jpy=1, category_hint="Film camera")]
    )
    assert next(c for c in camera if c.key == "functions").label.startswith("Powers on")
    assert keys(Condition.used_good)[:2] == ["matches_photos", "condition_as_described"]
    assert keys(Condition.used_good)[-1] == "packaging_safe"


def test_file_names_are_made_safe() -> None:
    assert safe_file_name("my video (1).mp4") == "my-video-1-.mp4"
    assert safe_file_name("../../etc/passwd") == "etc-passwd"
    with pytest.raises(ApplicationError):
        safe_file_name("../")


def make_order(settings) -> str:
    from models import Order
    from models.db import session_scope

    with session_scope(settings) as session:
        order = Order(
            ebay_order_id=f"98-{uuid.uuid4().hex[:10]}", line_items=[{"sku": "NONE", "quantity": 1}]
        )
        session.add(order)
        session.flush()
        return str(order.id)


def test_create_twice_is_one_inspection(acts, settings) -> None:
    order_id = make_order(settings)
    env = ActivityEnvironment()
    first = env.run(acts.create_inspection, CreateInspection(order_id=order_id, workflow_id="w"))
    second = env.run(acts.create_inspection, CreateInspection(order_id=order_id))
    assert first.inspection_id == second.inspection_id and first.result == "pending"
    assert [c.key for c in first.checklist] == [c.key for c in second.checklist]
    env.run(acts.record_escalation, RecordEscalation(order_id=order_id, count=2))
    env.run(acts.record_escalation, RecordEscalation(order_id=order_id, count=1))  # late retry

    from sqlmodel import select

    from models import Inspection, Order
    from models.db import session_scope

    with session_scope(settings) as session:
        row = session.exec(
            select(Inspection).where(Inspection.order_id == uuid.UUID(order_id))
        ).one()
        assert row.escalations == 2 and row.workflow_id == "w"
        assert session.get(Order, uuid.UUID(order_id)).status == "inspecting"


def test_presigned_upload_then_media_check(acts, settings) -> None:
    order_id = make_order(settings)
    env = ActivityEnvironment()
    targets = env.run(
        acts.presign_uploads,
        PresignUploads(
            order_id=order_id, file_names=["front.jpg", "back.jpg"], content_type="image/jpeg"
        ),
    )
    assert [t.key for t in targets] == [
        f"inspection-videos/{order_id}/front.jpg",
        f"inspection-videos/{order_id}/back.jpg",
    ]
    assert targets[0].max_bytes == settings.max_image_upload_bytes
    put = httpx.put(
        targets[0].url, content=b"\xff\xd8\xff\xe0jpeg", headers={"Content-Type": "image/jpeg"}
    )
    assert put.status_code == 403  # a presigned POST form is not a PUT URL
    assert post_upload(targets[0].model_dump(), b"\xff\xd8\xff\xe0jpeg").status_code == 204
    problems = env.run(
        acts.check_media, CheckMedia(order_id=order_id, keys=[t.key for t in targets])
    )
    assert problems == [f"media {targets[1].key} was not uploaded"]
    checked = env.run(
        acts.check_media_versions, CheckMedia(order_id=order_id, keys=[t.key for t in targets])
    )
    assert checked.problems == problems
    assert list(checked.versions) == [targets[0].key]  # the present key, with its version
    assert checked.versions[targets[0].key] == acts.deps.storage.version_id(targets[0].key)


def test_the_verdict_records_the_checked_versions_without_reading_s3(acts, settings) -> None:
    order_id = make_order(settings)
    env = ActivityEnvironment()
    env.run(acts.create_inspection, CreateInspection(order_id=order_id))
    key = f"inspection-videos/{order_id}/box.mp4"  # never uploaded: S3 would answer 404
    env.run(
        acts.record_inspection,
        RecordInspection(
            order_id=order_id,
            passed=True,
            answers={"matches_photos": True},
            media_keys=[key],
            inspector_id=str(uuid.uuid4()),
            media_versions={key: "v1"},
        ),
    )

    from sqlmodel import select

    from models import Inspection
    from models.db import session_scope

    with session_scope(settings) as session:
        row = session.exec(
            select(Inspection).where(Inspection.order_id == uuid.UUID(order_id))
        ).one()
        assert row.media_versions == {key: "v1"} and row.result == "passed"


def test_presign_refuses_other_content_types(acts, settings) -> None:
    with pytest.raises(ApplicationError) as err:
        ActivityEnvironment().run(
            acts.presign_uploads,
            PresignUploads(
                order_id=str(uuid.uuid4()),
                file_names=["x.exe"],
                content_type="application/x-msdownload",
            ),
        )
    assert err.value.non_retryable and "not accepted" in str(err.value)
