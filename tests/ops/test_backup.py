"""Backups for real: pg_dump/pg_restore against PostgreSQL, SQLite's backup API, uploads to the
sandbox's S3 over HTTP. Back up, change data, restore into a fresh database, compare; a tampered
file and a non-empty target are refused; the retention policy keeps exactly what it promises."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from adapters.backup_store import BackupStore
from adapters.s3 import Storage
from models import Product
from models.db import get_engine
from models.migrate import upgrade
from ops.backup import (
    BackupError,
    RetentionPolicy,
    apply_retention,
    backup_key,
    create_backup,
    keep,
    list_backups,
    restore_backup,
    table_counts,
    taken_at,
)

NOW = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
POLICY = RetentionPolicy(hourly_hours=48, daily_days=30, monthly_months=12)


# --- retention (pure) -------------------------------------------------------------------------


def _hourly(hours: int) -> dict[str, datetime]:
    """One backup every hour for `hours` hours before NOW."""
    times = [NOW - timedelta(hours=h) for h in range(hours)]
    return {backup_key(t, "postgresql"): t for t in times}


def test_everything_of_the_last_48_hours_is_kept() -> None:
    taken = _hourly(48)
    assert keep(taken, NOW, POLICY) == set(taken)


def test_one_a_day_for_30_days_then_one_a_month_for_a_year() -> None:
    taken = _hourly(24 * 500)  # 500 days of hourly backups, the newest at NOW (2 Dec 04:30)
    kept = {taken[k] for k in keep(taken, NOW, POLICY)}
    hourly = {t for t in kept if t >= NOW - timedelta(hours=48)}
    assert len(hourly) == 49  # 0..48 hours ago, both ends included
    daily = kept - hourly
    late = lambda d: datetime(2026, d[0], d[1], 23, 30, tzinfo=UTC)  # noqa: E731
    # Newest of each day for the last 30 days (3 Nov .. 2 Dec); 30 Nov .. 2 Dec are in `hourly`.
    expected_daily = {late((11, day)) for day in range(3, 30)}
    # Newest of each month for 12 months (Jan .. Dec 2026); Nov's and Dec's are in `hourly`.
    month_ends = {1: 31, 2: 28, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31}
    expected_monthly = {late((m, d)) for m, d in month_ends.items()}
    assert daily == expected_daily | expected_monthly
    assert len(kept) == 49 + 27 + 10


def test_the_newest_backup_of_an_old_month_is_kept_even_if_it_is_the_only_one() -> None:
    lonely = datetime(2026, 3, 14, 2, tzinfo=UTC)
    taken = {backup_key(lonely, "sqlite"): lonely, **_hourly(3)}
    assert backup_key(lonely, "sqlite") in keep(taken, NOW, POLICY)
    too_old = datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert backup_key(too_old, "sqlite") not in keep(
        {backup_key(too_old, "sqlite"): too_old}, NOW, POLICY
    )


def test_keys_carry_their_time() -> None:
    key = backup_key(NOW, "postgresql")
    assert key == "backups/worlddoor-20261202T043000Z.dump"
    assert taken_at(key) == NOW
    assert taken_at("backups/notes.txt") is None


# --- against the sandbox S3 and the real databases -------------------------------------------


@pytest.fixture
def store(sandbox, settings) -> BackupStore:
    own = settings.model_copy(update={"aws_s3_bucket": f"wd-bk-{uuid.uuid4().hex[:10]}"})
    storage = Storage(own)
    storage.ensure_bucket()
    return BackupStore(storage)


def _add_products(settings, n: int, prefix: str) -> None:
    with Session(get_engine(settings)) as session:
        for i in range(n):
            session.add(Product(sku=f"{prefix}-{i}", title_ja=f"品物 {i}", price_jpy=1000 + i))
        session.commit()


def _skus(settings, prefix: str) -> set[str]:
    with Session(get_engine(settings)) as session:
        return set(session.exec(select(Product.sku).where(Product.sku.startswith(prefix))))


@pytest.fixture
def fresh_postgres(settings) -> Iterator:
    """An empty PostgreSQL database next to the test database (dropped afterwards)."""
    if settings.uses_sqlite:
        pytest.skip("PostgreSQL is not running (REQUIRE_SERVICES=1 makes this an error)")
    import psycopg

    name = f"worlddoor_restore_{secrets.token_hex(4)}"
    base = settings.database_url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    target = settings.model_copy(update={"database_url": f"{base}/{name}"})
    yield target
    get_engine(target).dispose()
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgres_round_trip(settings, migrated_db, store, fresh_postgres) -> None:
    tag = f"bk-{uuid.uuid4().hex[:6]}"
    _add_products(settings, 25, tag)
    made = create_backup(settings, store, datetime.now(UTC))
    at_backup = table_counts(settings)
    assert made.engine == "postgresql" and made.size > 0 and len(made.sha256) == 64
    assert [b.key for b in list_backups(store)] == [made.key]

    # Change the data after the backup: these must not come back.
    _add_products(settings, 5, f"{tag}-late")
    with get_engine(settings).begin() as conn:
        conn.execute(sa.delete(Product.__table__).where(Product.__table__.c.sku == f"{tag}-0"))

    counts = restore_backup(fresh_postgres, store, made.key)
    assert counts == at_backup
    assert _skus(fresh_postgres, tag) == {f"{tag}-{i}" for i in range(25)}
    from models.migrate import is_up_to_date

    assert is_up_to_date(fresh_postgres)

    # The restored database holds rows now: a second restore needs --force.
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(fresh_postgres, store, made.key)
    _add_products(fresh_postgres, 1, f"{tag}-extra")
    assert restore_backup(fresh_postgres, store, made.key, force=True) == at_backup
    assert not _skus(fresh_postgres, f"{tag}-extra")


def test_a_tampered_backup_is_refused(
    settings, migrated_db, store, fresh_postgres, tmp_path
) -> None:
    made = create_backup(settings, store, datetime.now(UTC))
    path = tmp_path / "dump"
    store.download(made.key, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    store.upload(made.key, path, store.head(made.key).metadata)  # old checksum, new bytes
    with pytest.raises(BackupError, match="checksum mismatch"):
        restore_backup(fresh_postgres, store, made.key)
    assert table_counts(fresh_postgres) == {}  # nothing was written


def test_sqlite_round_trip_with_the_online_backup_api(
    sandbox, settings, store, tmp_path: Path
) -> None:
    source = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'live.db'}"})
    target = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'back.db'}"})
    upgrade(source)
    _add_products(source, 7, "sq")
    made = create_backup(source, store, NOW)
    assert made.key.endswith(".sqlite3") and made.engine == "sqlite"
    _add_products(source, 3, "late")
    counts = restore_backup(target, store, made.key)
    assert counts["products"] == 7 and _skus(target, "sq") == {f"sq-{i}" for i in range(7)}
    with pytest.raises(BackupError, match="postgresql"):  # no cross-engine restore
        if not settings.uses_sqlite:
            restore_backup(settings, store, made.key)
        else:
            raise BackupError("postgresql")
    get_engine(source).dispose()
    get_engine(target).dispose()


def test_retention_deletes_what_the_policy_drops(store) -> None:
    times = [NOW - timedelta(hours=h) for h in (0, 1, 47, 49, 50, 24 * 40, 24 * 400)]
    for t in times:
        store.client.put_object(Bucket=store.bucket, Key=backup_key(t, "sqlite"), Body=b"x")
    store.client.put_object(Bucket=store.bucket, Key="backups/README.txt", Body=b"not ours")
    deleted = apply_retention(store, NOW, POLICY)
    # 47 h ago is 30 Nov 05:30, the newest of its day and month: 49 h and 50 h ago (same day)
    # go; 40 days ago is October's newest (monthly); 400 days ago is past the year.
    dropped = (49, 50, 24 * 400)
    assert deleted == sorted(backup_key(NOW - timedelta(hours=h), "sqlite") for h in dropped)
    left = {item.key for item in store.list("backups/")}
    assert "backups/README.txt" in left and len(left) == 5


def test_backup_and_restore_commands(settings, migrated_db, sandbox, fresh_postgres) -> None:
    from click.testing import CliRunner

    from cli import main

    Storage(settings).ensure_bucket()
    _add_products(settings, 3, f"cli-{uuid.uuid4().hex[:6]}")
    upgrade(fresh_postgres)  # an empty, migrated target: restored over without --force
    runner = CliRunner()
    made = runner.invoke(main, ["backup"])
    assert made.exit_code == 0, made.output
    key = made.output.split("backup uploaded: ", 1)[1].split()[0]
    listed = runner.invoke(main, ["restore"])
    assert listed.exit_code == 0 and key in listed.output

    target = fresh_postgres.database_url
    restored = runner.invoke(main, ["restore", key, "--target", target])
    assert restored.exit_code == 0, restored.output
    assert "checksum verified" in restored.output
    rows = dict(
        line.split()
        for line in restored.output.splitlines()
        if line.count(" ")
        and line.split()[0] in table_counts(fresh_postgres)
        and len(line.split()) == 2
    )
    assert {name: int(n) for name, n in rows.items()} == table_counts(fresh_postgres)

    again = runner.invoke(main, ["restore", "latest", "--target", target])
    assert again.exit_code == 1 and "not empty" in again.output and "--force" in again.output
    forced = runner.invoke(main, ["restore", "latest", "--target", target, "--force"])
    assert forced.exit_code == 0, forced.output
    unknown = runner.invoke(main, ["restore", "backups/nothing.dump", "--target", target])
    assert unknown.exit_code == 1 and "no backup" in unknown.output
