"""Key-value stores: Redis when REDIS_URL is set (production requires it), files under var/
otherwise. Every use gets its own namespace so counters and revocation lists never collide."""

from __future__ import annotations

from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry

from config import Settings

# One namespace per use: each rate limiter has its own counter (a shared store would make every
# limiter count every other limiter's requests).
RL_PUBLIC = "rlpublic"
RL_LOGIN = "rllogin"
RL_TWO_FACTOR = "rltwofactor"
RL_API = "rlapi"
RL_WEBHOOKS = "rlwebhooks"
REVOKED_TOKENS = "revokedtokens"
USED_STEP_TOKENS = "usedsteptokens"
AUTH_STATE = "authstate"
KNOWN_DEVICES = "knowndevices"
HEALTH = "health"


def build_store_registry(settings: Settings) -> StoreRegistry:
    if settings.redis_url:
        root = RedisStore.with_client(url=settings.redis_url, namespace=settings.store_namespace)
        return StoreRegistry(default_factory=root.with_namespace)
    base = settings.var_dir / "stores" / settings.store_namespace

    def file_store(name: str) -> Store:
        # FileStore only creates its directory when used as a context manager; the registry
        # hands stores out directly, so create it here.
        (base / name).mkdir(parents=True, exist_ok=True)
        return FileStore(base / name)

    return StoreRegistry(default_factory=file_store)
