"""Django's Redis cache, failing soft: a cache that cannot be reached is a miss, not a 500.

The cache only ever holds what can be computed again (report results, import progress),
so when Redis is down a read answers "not cached" and a write is dropped, each with a
logged warning, and the page computes its figures from the database. After a failure the
backend does not try Redis again for `RETRY_AFTER` seconds, so a page with several cache
reads pays for at most one connection attempt (the connect timeout is in settings.CACHES).

Counting has no soft answer: `incr` (and `decr`) raise `CacheUnavailable`, and the caller
decides what an unknown count means (crm.lib.ratelimit fails open or closed per use).
"""

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds a failed backend is left alone before the next attempt.
RETRY_AFTER = 5.0


class CacheUnavailable(Exception):
    """The cache server could not be reached (raised only where no soft answer exists)."""


class FailSoftRedisCache(RedisCache):
    _down_until = 0.0

    def _soft(self, operation: str, call: Callable[[], T], fallback: T) -> T:
        try:
            return self._strict(operation, call)
        except CacheUnavailable:
            return fallback

    def _strict(self, operation: str, call: Callable[[], T]) -> T:
        if time.monotonic() < self._down_until:
            raise CacheUnavailable(f"cache {operation}: Redis was unreachable moments ago")
        try:
            return call()
        except RedisError as error:
            self._down_until = time.monotonic() + RETRY_AFTER
            logger.warning("cache %s failed, going on without the cache: %r", operation, error)
            raise CacheUnavailable(f"cache {operation}: {error!r}") from error

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._soft(
            "get", lambda: super(FailSoftRedisCache, self).get(key, default, version), default
        )

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._soft(
            "get_many", lambda: super(FailSoftRedisCache, self).get_many(keys, version), {}
        )

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._soft(
            "has_key", lambda: super(FailSoftRedisCache, self).has_key(key, version), False
        )

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._soft(
            "add", lambda: super(FailSoftRedisCache, self).add(key, value, timeout, version), False
        )

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._soft(
            "set", lambda: super(FailSoftRedisCache, self).set(key, value, timeout, version), None
        )

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        # Django's answer for "these keys were not stored".
        return self._soft(
            "set_many",
            lambda: super(FailSoftRedisCache, self).set_many(data, timeout, version),
            list(data),
        )

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._soft(
            "touch", lambda: super(FailSoftRedisCache, self).touch(key, timeout, version), False
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._soft(
            "delete", lambda: super(FailSoftRedisCache, self).delete(key, version), False
        )

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._soft(
            "delete_many", lambda: super(FailSoftRedisCache, self).delete_many(keys, version), None
        )

    def clear(self) -> None:
        self._soft("clear", lambda: super(FailSoftRedisCache, self).clear(), None)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """Raises CacheUnavailable when Redis cannot be reached (and ValueError, as Django
        does, when the key does not exist)."""
        return self._strict(
            "incr", lambda: super(FailSoftRedisCache, self).incr(key, delta, version)
        )
