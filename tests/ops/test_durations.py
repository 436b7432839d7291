from __future__ import annotations

from datetime import timedelta

import pytest

from goscope_redis.durations import optional_ms, to_ms, wait_ms


def test_accepts_int_integral_float_and_timedelta():
    assert to_ms(5) == 5
    assert to_ms(5.0) == 5
    assert to_ms(timedelta(seconds=2, milliseconds=3)) == 2003


@pytest.mark.parametrize(
    "bad", [0, -1, True, False, 1.5, "5", None, timedelta(0), timedelta(microseconds=10)]
)
def test_rejects_bad_durations_with_value_error(bad):
    with pytest.raises(ValueError):
        to_ms(bad, "ttl")


def test_optional_and_wait():
    assert optional_ms(None) is None
    assert wait_ms(None) is None
    assert wait_ms(0) == 0
    assert wait_ms(timedelta(milliseconds=7)) == 7
    with pytest.raises(ValueError):
        wait_ms(-1)
    with pytest.raises(ValueError):
        wait_ms(False)
