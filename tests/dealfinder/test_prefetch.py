"""dealfinder.common.prefetch: items produced in a thread, in order; its error raised to the consumer; leaving
the loop early stops the thread."""

import threading

import pytest

from dealfinder.common.prefetch import prefetched


def test_items_arrive_in_order():
    assert list(prefetched(lambda: iter(range(10)), depth=2)) == list(range(10))


def test_an_error_in_the_producer_is_raised_to_the_consumer():
    def produce():
        yield 1
        raise ValueError("bad page")

    got = []
    with pytest.raises(ValueError, match="bad page"):
        for item in prefetched(produce):
            got.append(item)
    assert got == [1]


def test_closing_early_stops_the_producer():
    produced = []
    stopped = threading.Event()

    def produce():
        try:
            for n in range(1000):
                produced.append(n)
                yield n
        finally:
            stopped.set()

    items = prefetched(produce, depth=1)
    assert next(items) == 0
    items.close()
    assert stopped.wait(5)
    assert len(produced) <= 3  # the one taken, one queued, one waiting to be queued
