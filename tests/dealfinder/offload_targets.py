"""Functions tests/dealfinder/test_offload.py runs in a helper process (dealfinder.common.offload)."""

import os
import time


def echo(setup):
    return lambda *args: (setup, args, os.getpid())


def failing(setup):
    def fail(records):
        raise ValueError(f"cannot derive {len(records)} records")

    return fail


def sleeping(setup):
    return lambda seconds: time.sleep(seconds)


def dying(setup):
    return lambda *args: os._exit(3)
