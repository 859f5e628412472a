"""Disaster-recovery drill: how long a restore of a realistic database takes (the RTO's core).

    python -m bench.dr_drill --orders 100000        (make dr-drill)

Creates a scratch PostgreSQL database at head, fills it with ORDERS orders, each with its
inspection, shipment and label purchase, plus ORDERS/10 products (buyer names, addresses and
JSON line items of production size), then runs the real `create_backup` (pg_dump -Fc + SHA-256
+ upload to S3) and `restore_backup` (download, verify, pg_restore into a second scratch
database, migrate, count) and prints each step's time. S3 is the local S3 server started here;
PostgreSQL is `--postgres` (default the local server). Both scratch databases are dropped.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

FILL = [
    # products: one per ten orders
    """
    INSERT INTO products (id, sku, title_ja, description_ja, brand, category_hint, condition,
        condition_notes, price_jpy, quantity, weight_g, length_cm, width_cm, height_cm, hs_code,
        image_keys, tags, title_en, description_html, item_specifics, ebay_category_id,
        price_usd, ai_generation, status, ebay_offer_id, ebay_listing_id, listing_workflow_id,
        last_error, created_at, updated_at)
    SELECT gen_random_uuid(), 'DR-' || g, '古伊万里 染付 皿 ' || g, repeat('状態良好。', 40),
        'Imari', 'pottery', 'used_good', '', 10000 + g, 1, 800, 25, 25, 5, '6913.90',
        jsonb_build_array('product-images/DR-' || g || '/1.jpg',
            'product-images/DR-' || g || '/2.jpg'),
        '["imari","antique"]', 'Antique Imari blue and white plate ' || g,
        repeat('<p>Hand-painted Imari plate in excellent condition.</p>', 10),
        '{"Material":"Porcelain","Origin":"Japan"}', '37934', '89.00', '{}', 'listed',
        'offer-' || g, 'listing-' || g, 'listing-DR-' || g, '', now(), now()
    FROM generate_series(1, %(products)s) AS g
    """,
    """
    INSERT INTO orders (id, ebay_order_id, buyer_username, buyer_email, ship_to, line_items,
        total_value, total_currency, status, ebay_created_at, ebay_modified_at, workflow_id,
        cancel_reason, created_at, updated_at, completed_at)
    SELECT gen_random_uuid(), '12-' || lpad((g / 100000)::text, 5, '0') || '-'
        || lpad(mod(g, 100000)::text, 5, '0'),
        'buyer' || g, 'buyer' || g || '@example.com',
        jsonb_build_object('fullName', 'Buyer Number ' || g, 'addressLine1', g || ' Main Street',
            'city', 'Portland', 'stateOrProvince', 'OR', 'postalCode', '97201',
            'countryCode', 'US', 'phoneNumber', '+1 503 555 ' || lpad(mod(g, 10000)::text, 4, '0')),
        jsonb_build_array(jsonb_build_object('sku', 'DR-' || (mod(g, %(products)s) + 1),
            'quantity', 1, 'title', 'Antique Imari plate', 'price', '89.00',
            'lineItemId', 'li-' || g)),
        '89.00', 'USD', 'completed', now() - interval '30 days', now(), 'order-12-' || g, '',
        now(), now(), now()
    FROM generate_series(1, %(orders)s) AS g
    """,
    """
    INSERT INTO inspections (id, order_id, checklist, answers, media_keys, result, notes,
        inspector_id, escalations, workflow_id, created_at, completed_at)
    SELECT gen_random_uuid(), id, '["chips","cracks","matches photos"]',
        '{"chips":false,"cracks":false,"matches photos":true}',
        jsonb_build_array('inspection-videos/' || id || '.mp4'), 'passed', 'ok', NULL, 0,
        'inspection-' || id, now(), now()
    FROM orders
    """,
    """
    INSERT INTO shipments (id, order_id, carrier, service, tracking_number, label_key,
        handoff_key, cost_amount, cost_currency, status, quotes, events, ebay_fulfillment_id,
        created_at, updated_at)
    SELECT gen_random_uuid(), id, 'fedex', 'INTERNATIONAL_ECONOMY',
        '7' || lpad((row_number() OVER ())::text, 11, '0'), 'shipping-labels/' || id || '.pdf', '',
        '4200', 'JPY', 'delivered',
        '[{"carrier":"fedex","service":"INTERNATIONAL_ECONOMY","amount":"4200"}]',
        '[{"status":"in_transit"},{"status":"delivered"}]', 'ful-' || id, now(), now()
    FROM orders
    """,
    """
    INSERT INTO label_purchases (id, shipment_id, idempotency_key, carrier, service, status,
        tracking_number, label_key, detail, created_at, updated_at)
    SELECT gen_random_uuid(), id, 'label:' || id, carrier, service, 'bought', tracking_number,
        label_key, '{"pages":1}', now(), now()
    FROM shipments
    """,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    from bench.util import free_port

    var_dir = tempfile.mkdtemp(prefix="worlddoor-drill-")
    os.environ.update(
        {
            "APP_ENV": "development",
            "WORLDDOOR_VAR_DIR": var_dir,
            "SANDBOX_S3_PORT": str(free_port()),
            "AWS_S3_BUCKET": "worlddoor-drill",
            "LOG_LEVEL": "WARNING",
        }
    )
    import psycopg
    import sqlalchemy as sa

    from adapters.backup_store import BackupStore
    from adapters.s3 import Storage
    from config import Settings
    from models.db import get_engine
    from models.migrate import upgrade
    from ops.backup import create_backup, restore_backup, table_counts
    from sandbox.local_s3 import LocalS3

    base = args.postgres.rsplit("/", 1)[0]
    names = [f"worlddoor_drill_{secrets.token_hex(3)}" for _ in range(2)]
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    source, target = (Settings(DATABASE_URL=f"{base}/{name}") for name in names)
    s3 = LocalS3(source, data_dir=Path(tempfile.mkdtemp(prefix="worlddoor-drill-s3-")))
    s3.start()
    s3.wait_ready()
    timings: dict[str, float] = {}
    try:
        storage = Storage(source)
        storage.ensure_bucket()
        store = BackupStore(storage)
        upgrade(source)

        started = time.monotonic()
        with get_engine(source).begin() as conn:
            for statement in FILL:
                conn.exec_driver_sql(  # psycopg parameters: the JSON literals hold colons
                    statement, {"orders": args.orders, "products": args.orders // 10}
                )
        timings["fill"] = time.monotonic() - started
        counts = table_counts(source)

        started = time.monotonic()
        made = create_backup(source, store, datetime.now(UTC))
        timings["backup (pg_dump + sha256 + upload)"] = time.monotonic() - started

        started = time.monotonic()
        restored = restore_backup(target, store, made.key)
        timings["restore (download + verify + pg_restore + migrate + count)"] = (
            time.monotonic() - started
        )
        assert restored == counts, f"restored {restored} != source {counts}"
        size = sa.select(sa.func.pg_database_size(sa.func.current_database()))
        with get_engine(source).connect() as conn:
            db_bytes = conn.execute(size).scalar_one()
    finally:
        for settings in (source, target):
            get_engine(settings).dispose()
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        s3.stop()
        shutil.rmtree(s3.data_dir, ignore_errors=True)

    print(f"DR drill: {args.orders} orders")
    print(f"  database size      {db_bytes / 1e6:.0f} MB")
    print(
        f"  backup file        {made.size / 1e6:.1f} MB (pg_dump -Fc), sha256 {made.sha256[:12]}…"
    )
    for step, seconds in timings.items():
        print(f"  {step:<58} {seconds:7.1f} s")
    print("  rows restored      " + ", ".join(f"{t}={n}" for t, n in restored.items() if n))


if __name__ == "__main__":
    main()
