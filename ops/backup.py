"""Database backups: dump, checksum, upload under `backups/`, retention, restore.

- PostgreSQL: `pg_dump --format=custom` (restored with `pg_restore`); the embedded SQLite
  default: SQLite's online backup API (a consistent copy while the API and worker write).
- Every object carries its SHA-256, the engine and the Alembic revision as S3 user metadata;
  restore refuses a file whose checksum differs.
- Retention (`keep`): every backup of the last 48 hours, the newest of each day for 30 days,
  the newest of each month for 12 months (numbers from the settings). The scheduled workflow
  applies it after each backup; the bucket's lifecycle rule on `backups/` is the backstop.

The Temporal activities (`activities/backup.py`) and the CLI (`worlddoor backup|restore`) both
call these functions; nothing here knows about Temporal.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from adapters.backup_store import BackupObject, BackupStore
from config import Settings

PREFIX = "backups/"
KEY_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
SUFFIX = {"postgresql": ".dump", "sqlite": ".sqlite3"}
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that must not go on (bad checksum, non-empty target, ...)."""


# --- retention ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionPolicy:
    hourly_hours: int = 48
    daily_days: int = 30
    monthly_months: int = 12

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            settings.backup_keep_hourly_hours,
            settings.backup_keep_daily_days,
            settings.backup_keep_monthly_months,
        )


def _months_between(later: datetime, earlier: datetime) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def keep(taken: dict[str, datetime], now: datetime, policy: RetentionPolicy) -> set[str]:
    """The backups to keep out of `taken` ({key: time taken}); the rest may be deleted.

    Grandfather-father-son: all within `hourly_hours`; the newest of each UTC day for the
    last `daily_days` days; the newest of each UTC month for the last `monthly_months` months.
    A backup from the future (clock skew) is kept."""
    kept: set[str] = set()
    newest_of_day: dict[object, tuple[datetime, str]] = {}
    newest_of_month: dict[tuple[int, int], tuple[datetime, str]] = {}
    for key, at in taken.items():
        at = at.astimezone(UTC)
        if at >= now - timedelta(hours=policy.hourly_hours):
            kept.add(key)
        if (now.date() - at.date()).days < policy.daily_days:
            day = at.date()
            if day not in newest_of_day or at > newest_of_day[day][0]:
                newest_of_day[day] = (at, key)
        if _months_between(now, at) < policy.monthly_months:
            month = (at.year, at.month)
            if month not in newest_of_month or at > newest_of_month[month][0]:
                newest_of_month[month] = (at, key)
    kept |= {key for _, key in newest_of_day.values()}
    kept |= {key for _, key in newest_of_month.values()}
    return kept


# --- keys and files --------------------------------------------------------------------------


def engine_of(settings: Settings) -> str:
    return "sqlite" if settings.uses_sqlite else "postgresql"


def backup_key(at: datetime, engine: str) -> str:
    return f"{PREFIX}worlddoor-{at.astimezone(UTC).strftime(KEY_TIME_FORMAT)}{SUFFIX[engine]}"


def taken_at(key: str) -> datetime | None:
    """The time in a backup key, or None for objects that are not ours."""
    name = key.removeprefix(PREFIX)
    if not name.startswith("worlddoor-"):
        return None
    stamp = name.removeprefix("worlddoor-").split(".", 1)[0]
    try:
        return datetime.strptime(stamp, KEY_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _libpq(settings: Settings) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (so `ps` never shows it) and PGPASSWORD in the env."""
    url = make_url(settings.sqlalchemy_url)
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _sqlite_path(settings: Settings) -> Path:
    return Path(make_url(settings.sqlalchemy_url).database or "")


def _run(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {result.stderr.strip()[-2000:]}")


def dump(settings: Settings, target: Path) -> None:
    """A consistent copy of the database into `target`."""
    if settings.uses_sqlite:
        source = sqlite3.connect(_sqlite_path(settings))
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
            source.close()
        return
    url, env = _libpq(settings)
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-acl", f"--file={target}", url], env)


# --- backup ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupMade:
    key: str
    size: int
    sha256: str
    engine: str
    revision: str


def create_backup(settings: Settings, store: BackupStore, at: datetime) -> BackupMade:
    """Dump the database, upload it with its checksum; idempotent for the same `at` (the key
    is derived from it, so a retried activity overwrites its own half-finished attempt)."""
    from models.migrate import current_revision

    engine = engine_of(settings)
    key = backup_key(at, engine)
    with tempfile.TemporaryDirectory(prefix="worlddoor-backup-") as tmp:
        path = Path(tmp) / Path(key).name
        dump(settings, path)
        checksum = sha256_of(path)
        revision = current_revision(settings) or ""
        store.upload(key, path, {"sha256": checksum, "engine": engine, "revision": revision})
        return BackupMade(key, path.stat().st_size, checksum, engine, revision)


def list_backups(store: BackupStore) -> list[BackupObject]:
    """Our backups, newest first."""
    found = [item for item in store.list(PREFIX) if taken_at(item.key)]
    return sorted(found, key=lambda item: item.key, reverse=True)


def apply_retention(store: BackupStore, now: datetime, policy: RetentionPolicy) -> list[str]:
    """Delete the backups the policy no longer keeps; returns their keys."""
    taken = {item.key: at for item in store.list(PREFIX) if (at := taken_at(item.key))}
    doomed = sorted(set(taken) - keep(taken, now, policy))
    store.delete(doomed)
    return doomed


# --- restore -----------------------------------------------------------------------------------


def table_counts(settings: Settings) -> dict[str, int]:
    """Rows per application table (the models' tables, in foreign-key order)."""
    from sqlmodel import SQLModel

    import models  # noqa: F401  (registers the tables)
    from models.db import get_engine

    existing = set(sa.inspect(get_engine(settings)).get_table_names())
    counts: dict[str, int] = {}
    with get_engine(settings).connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in existing:
                counts[table.name] = conn.execute(
                    sa.select(sa.func.count()).select_from(table)
                ).scalar_one()
    return counts


def _nonempty_tables(settings: Settings) -> list[str]:
    return [name for name, count in table_counts(settings).items() if count]


def restore_backup(
    settings: Settings,
    store: BackupStore,
    key: str,
    *,
    force: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    """Restore `key` into `settings`' database, migrate it forward, return rows per table.

    Refuses a target holding rows unless `force` (then the restored tables replace the
    existing ones), and refuses a file whose SHA-256 differs from the one stored with it."""
    from models.db import get_engine
    from models.migrate import upgrade

    engine = engine_of(settings)
    head = store.head(key)
    if head.metadata.get("engine") != engine:
        raise BackupError(
            f"{key} is a {head.metadata.get('engine') or 'unknown'} backup but the target is "
            f"{engine}; restore into a {head.metadata.get('engine')} database, then use "
            "`worlddoor copy-data`"
        )
    busy = _nonempty_tables(settings)
    if busy and not force:
        raise BackupError(
            f"target database is not empty ({', '.join(busy[:5])}"
            f"{' ...' if len(busy) > 5 else ''}); pass --force to replace it"
        )
    expected = head.metadata.get("sha256", "")
    with tempfile.TemporaryDirectory(prefix="worlddoor-restore-") as tmp:
        path = Path(tmp) / Path(key).name
        progress(f"downloading {key} ({head.size} bytes)")
        store.download(key, path)
        actual = sha256_of(path)
        if not expected or actual != expected:
            raise BackupError(
                f"checksum mismatch for {key}: stored {expected or 'none'}, file {actual}"
            )
        progress(f"checksum verified (sha256 {actual})")
        get_engine(settings).dispose()
        if engine == "sqlite":
            _restore_sqlite(path, _sqlite_path(settings))
        else:
            url, env = _libpq(settings)
            # Replace what exists (rows only with --force, checked above; an empty migrated
            # schema is replaced too, since pg_restore cannot create tables that exist).
            has_schema = bool(sa.inspect(get_engine(settings)).get_table_names())
            get_engine(settings).dispose()
            clean = ["--clean", "--if-exists"] if has_schema else []
            _run(
                ["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", *clean,
                 f"--dbname={url}", str(path)],
                env,
            )  # fmt: skip
    progress("restored; applying migrations up to head")
    upgrade(settings)
    return table_counts(settings)


def _restore_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


def describe(items: Iterable[BackupObject]) -> list[str]:
    return [
        f"{item.key}  {item.size:>12} bytes  {item.last_modified:%Y-%m-%d %H:%M:%S}Z"
        for item in items
    ]
