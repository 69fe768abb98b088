"""The loader's page prefetch (no database)."""

import threading

import pytest

from properties.ingest.prefetch import Prefetched


def test_pages_arrive_in_order_and_the_thread_ends():
    pages = Prefetched(range(10), depth=2)
    assert list(pages) == list(range(10))
    pages.close()
    assert not any(t.name == "ingest-prefetch" and t.is_alive() for t in threading.enumerate())


def test_a_reader_error_is_raised_where_the_page_would_have_been():
    def reader():
        yield 1
        yield 2
        raise ValueError("page 3 cannot be parsed")

    pages = Prefetched(reader())
    seen = []
    with pytest.raises(ValueError, match="page 3 cannot be parsed"):
        for page in pages:
            seen.append(page)
    pages.close()
    assert seen == [1, 2]


def test_stopping_early_closes_the_reader():
    closed = threading.Event()

    def reader():
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    pages = Prefetched(reader(), depth=1)
    assert next(iter(pages)) == 1
    pages.close()
    assert closed.is_set()
