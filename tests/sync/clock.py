"""A fixed weekday afternoon for tests that send SMS or enrol workflows: the compliance gate refuses them in quiet
hours, on Sundays where a state says so, and on holidays, so such a test must not depend on when the suite runs."""

import datetime

import time_machine


def office_hours():
    """Wednesday 4 March 2026, 10:00 in Orlando (15:00 UTC); the clock ticks on from there (threads wait on it)."""
    return time_machine.travel(datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC), tick=True)
