import pytest

from sync.outbound import MAX_WAIT_SECONDS, OutboundError, call_with_retries, retry_after_seconds

NOW = 1_741_449_600.0  # Sat, 08 Mar 2025 16:00:00 GMT


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        ("1.5", 1.5),
        ("-2", 0.0),
        ("Sat, 08 Mar 2025 16:00:30 GMT", 30.0),
        ("Sat, 08 Mar 2025 15:59:00 GMT", 0.0),
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(value, seconds):
    assert retry_after_seconds({"Retry-After": value}, now=NOW) == seconds


def test_no_retry_after_header_is_none():
    assert retry_after_seconds({}, now=NOW) is None


def flaky(errors):
    calls = []

    def call():
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "ok"

    return call, calls


def test_retryable_errors_are_retried_waiting_at_least_what_was_asked():
    sleeps = []
    call, calls = flaky([OutboundError(0, "reset"), OutboundError(429, "slow", retry_after=7), OutboundError(503, "")])
    assert call_with_retries(call, attempts=4, first_wait=0, sleep=sleeps.append) == "ok"
    assert (len(calls), sleeps) == (4, [0, 7.0, 0])


def test_a_huge_retry_after_is_capped():
    sleeps = []
    call, _ = flaky([OutboundError(429, "slow", retry_after=86_400)])
    call_with_retries(call, attempts=2, first_wait=0, sleep=sleeps.append)
    assert sleeps == [MAX_WAIT_SECONDS]


def test_final_errors_are_raised_at_once_and_the_last_retryable_one_after_the_attempts():
    call, calls = flaky([OutboundError(422, "invalid", code="invalid")])
    with pytest.raises(OutboundError, match="outside service HTTP 422: invalid \\(invalid\\)"):
        call_with_retries(call, attempts=5, first_wait=0, sleep=lambda s: None)
    assert len(calls) == 1
    call, calls = flaky(
        [OutboundError(500, "a"), OutboundError(502, "b"), OutboundError(0, "c"), OutboundError(0, "d")]
    )
    with pytest.raises(OutboundError, match="outside service network error: c"):
        call_with_retries(call, attempts=3, first_wait=0, sleep=lambda s: None)
    assert len(calls) == 3
