"""A Redis cache that fails open: an outage reads as "nothing cached" instead of failing the request."""

import functools
import logging

from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger("dealfinder.security")  # the name operators filter on


def _fail_open(default):
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            import redis

            try:
                return method(self, *args, **kwargs)
            except redis.RedisError as exc:
                logger.warning("cache unavailable, %s skipped: %s", method.__name__, exc)
                return default(*args, **kwargs) if callable(default) else default

        return wrapper

    return decorate


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache, but a Redis outage reads as "nothing cached" instead of failing the request.

    The cache holds only the API throttle histories (login failures are in the database): while Redis is down
    the web app keeps serving and the API rate limits are not enforced (a warning is logged for each skipped
    operation).
    """

    get = _fail_open(lambda key, default=None, **kw: default)(RedisCache.get)
    get_many = _fail_open(lambda keys, **kw: {})(RedisCache.get_many)
    has_key = _fail_open(False)(RedisCache.has_key)
    add = _fail_open(False)(RedisCache.add)
    set = _fail_open(None)(RedisCache.set)
    set_many = _fail_open(lambda data, *a, **kw: list(data))(RedisCache.set_many)
    touch = _fail_open(False)(RedisCache.touch)
    incr = _fail_open(lambda key, delta=1, **kw: delta)(RedisCache.incr)
    delete = _fail_open(False)(RedisCache.delete)
    delete_many = _fail_open(None)(RedisCache.delete_many)
    clear = _fail_open(None)(RedisCache.clear)
