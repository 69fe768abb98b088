"""dealfinder.common.prefetch: items produced in a thread, in order; its error raised to the consumer; leaving
the loop early stops the thread. Items written behind in a thread, in order; a failed write raised at the next
put and the rest dropped; inline when not threaded."""

import threading

import pytest

from dealfinder.common.prefetch import WriteBehind, prefetched


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


def test_items_are_written_behind_in_order_by_a_thread():
    written, threads = [], set()

    def write(item):
        written.append(item)
        threads.add(threading.current_thread().name)

    with WriteBehind(write, threaded=True) as writer:
        for n in range(10):
            writer.put(n)
    assert written == list(range(10)) and threads == {"write-behind"}


def test_a_failed_write_is_raised_to_the_caller_and_the_rest_dropped():
    written, failed = [], threading.Event()

    def write(item):
        if item == 1:
            failed.set()
            raise ValueError("disk full")
        written.append(item)

    with pytest.raises(ValueError, match="disk full"), WriteBehind(write, threaded=True) as writer:
        writer.put(0)
        writer.put(1)
        assert failed.wait(5)
        for n in range(2, 10):
            writer.put(n)
    assert written == [0]


def test_not_threaded_writes_inline():
    written = []
    with WriteBehind(lambda item: written.append((item, threading.current_thread().name)), threaded=False) as w:
        w.put("a")
        assert written == [("a", threading.current_thread().name)]
