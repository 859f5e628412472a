"""What every authenticated request needs to know about its user, cached in the store.

An access token names the user's token generation (`gen`). The database row is the truth; the
store keeps a snapshot `{generation, role, active, ...}` so a request costs one store read, not a
database query. Revoking every access token of a user is one atomic `token_generation + 1` in the
database followed by publishing the new snapshot (see `bump_generation` / `publish`):

- a token older than the snapshot's generation is refused;
- a token newer than the snapshot means the snapshot is stale: it is reloaded from the database.

Snapshots are written monotonically (never replaced by one with a lower generation), so a slow
request that read the row before a bump cannot put the old generation back."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from litestar.stores.base import Store
from litestar.stores.redis import RedisStore
from sqlmodel import Session

from api.db import read
from api.redis_batch import batcher
from config import Settings
from models import Role, User
from models.db import table_of

SNAPSHOT_SECONDS = 300
"""How long an unchanged snapshot is kept before the row is read again."""

# SET the snapshot unless the stored one has a higher generation (compare and set in one step).
_SET_IF_NOT_OLDER = """
local current = redis.call('GET', KEYS[1])
if current then
  local stored = tonumber(string.match(current, '"generation": *(%d+)'))
  if stored and stored > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


@dataclass(frozen=True)
class AuthState:
    generation: int
    email: str
    role: str
    is_active: bool
    totp_enabled: bool
    must_change_password: bool
    full_name: str
    recovery_codes_left: int
    """`GET /api/auth/me` answers from the snapshot too (published after every change of these)."""

    @classmethod
    def of(cls, user: User) -> AuthState:
        return cls(
            generation=user.token_generation,
            email=user.email,
            role=str(user.role),
            is_active=user.is_active,
            totp_enabled=user.totp_enabled,
            must_change_password=user.must_change_password,
            full_name=user.full_name,
            recovery_codes_left=sum(1 for code in user.recovery_code_hashes if code),
        )

    def encode(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def decode(cls, raw: bytes) -> AuthState | None:
        """None for anything else, e.g. a snapshot written before a field was added: the row
        is read again."""
        try:
            return cls(**json.loads(raw))
        except (ValueError, TypeError):
            return None

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


def bump_generation(session: Session, user_id: uuid.UUID) -> None:
    """In the caller's transaction: every access token issued to the user so far stops working
    once the caller publishes (`publish`)."""
    table = table_of(User)
    session.execute(
        sa.update(table)
        .where(table.c.id == user_id)
        .values(token_generation=table.c.token_generation + 1)
    )


async def _load(settings: Settings, user_id: uuid.UUID) -> AuthState | None:
    def run(session: Session) -> AuthState | None:
        user = session.get(User, user_id)
        return AuthState.of(user) if user is not None else None

    return await read(settings, run)


async def _store_if_not_older(store: Store, user_id: uuid.UUID, state: AuthState) -> None:
    key = str(user_id)
    if isinstance(store, RedisStore):
        redis: Any = store._redis  # noqa: SLF001 - Litestar's store has no compare-and-set
        await redis.eval(
            _SET_IF_NOT_OLDER,
            1,
            store._make_key(key),  # noqa: SLF001
            state.encode(),
            state.generation,
            SNAPSHOT_SECONDS,
        )
        return
    # File store (single-process development): read, compare, write.
    current = await store.get(key)
    stored = AuthState.decode(current) if current else None
    if stored is None or stored.generation <= state.generation:
        await store.set(key, state.encode(), expires_in=SNAPSHOT_SECONDS)


async def publish(store: Store, settings: Settings, user_id: uuid.UUID) -> AuthState | None:
    """Read the committed row and make it the snapshot (after any change to the account)."""
    state = await _load(settings, user_id)
    if state is None:
        await store.delete(str(user_id))
        return None
    await _store_if_not_older(store, user_id, state)
    return state


async def current(
    store: Store,
    settings: Settings,
    user_id: uuid.UUID,
    token_generation: int,
    *,
    raw: bytes | None = None,
) -> AuthState | None:
    """The snapshot a token of `token_generation` must be checked against (`raw`: the stored
    snapshot when the caller has read it already)."""
    if raw is None:
        raw = await store.get(str(user_id))
    state = AuthState.decode(raw) if raw else None
    if state is None or token_generation > state.generation:
        return await publish(store, settings, user_id)
    return state


async def current_unless_revoked(
    store: Store,
    revoked: Store,
    settings: Settings,
    user_id: uuid.UUID,
    token_generation: int,
    jti: str,
) -> AuthState | None:
    """`current`, or None when the token's own id is revoked (logout): with Redis both are read
    in one round trip (MGET), so an authenticated request costs one store read."""
    if isinstance(store, RedisStore) and isinstance(revoked, RedisStore):
        redis: Any = store._redis  # noqa: SLF001 - one MGET across the two namespaces
        is_revoked, raw = await batcher(redis).execute(
            "MGET",
            revoked._make_key(jti),  # noqa: SLF001
            store._make_key(str(user_id)),  # noqa: SLF001
        )
    else:
        is_revoked, raw = await revoked.exists(jti), await store.get(str(user_id))
    if is_revoked:
        return None
    return await current(store, settings, user_id, token_generation, raw=raw)
