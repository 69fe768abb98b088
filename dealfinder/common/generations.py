"""A change generation in the shared cache, for figures cached under a fingerprint of "the newest change".

Such a fingerprint (the maxima of indexed `updated_at` and `id` columns) sees every insert and every update that
stamps `updated_at`, but not a deletion nor a bulk write that leaves the stamp alone. Code that does either to
records such figures count calls `change_generation_bump()`, and the fingerprint carries `change_generation()`.

The counter lives in the same cache as the figures, so a flushed cache loses both together; the figures also
carry a timeout, which bounds what an evicted counter alone could leave stale.
"""

from django.core.cache import cache

KEY = "dealfinder:change-generation"


def change_generation() -> int:
    return cache.get(KEY, 0)


def change_generation_bump() -> None:
    cache.add(KEY, 0, timeout=None)
    cache.incr(KEY)
