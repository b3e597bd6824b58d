from datetime import date, timedelta
from itertools import pairwise

import pytest
from analytics.domain.quarters import InvalidQuarter, Quarter
from hypothesis import given
from hypothesis import strategies as st

dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31))


def test_quarter_text_round_trips_and_accepts_lowercase():
    assert str(Quarter.parse("2026-Q4")) == "2026-Q4"
    assert Quarter.parse(" 2026-q1 ") == Quarter(2026, 1)


@pytest.mark.parametrize("text", ["2026-Q5", "2026-Q0", "2026Q4", "26-Q4", "2026-Q4x", "", "Q4"])
def test_text_that_is_no_quarter_is_refused(text):
    with pytest.raises(InvalidQuarter):
        Quarter.parse(text)


def test_quarter_bounds_are_calendar_quarters():
    q4 = Quarter(2026, 4)
    assert (q4.start, q4.end) == (date(2026, 10, 1), date(2026, 12, 31))
    assert (Quarter(2028, 1).start, Quarter(2028, 1).end) == (date(2028, 1, 1), date(2028, 3, 31))
    assert q4.previous == Quarter(2026, 3)
    assert Quarter(2027, 1).previous == q4
    assert q4.next == Quarter(2027, 1)


@given(dates)
def test_every_day_lies_in_the_quarter_of_it(day):
    q = Quarter.of(day)
    assert day in q
    assert q.start <= day <= q.end
    assert q.previous.end + timedelta(days=1) == q.start
    assert q.next.previous == q
    assert Quarter.parse(str(q)) == q


@given(dates)
def test_weeks_cover_the_quarter_once_in_order(day):
    q = Quarter.of(day)
    weeks = q.weeks()
    assert weeks[0][0] == q.start and weeks[-1][1] == q.end
    for (first, last), (nxt, _) in pairwise(weeks):
        assert nxt == last + timedelta(days=1)
        assert last.weekday() == 6  # every week but the last ends on a Sunday
        assert (last - first).days <= 6
    assert all(first.weekday() == 0 for first, _ in weeks[1:])
    assert sum((last - first).days + 1 for first, last in weeks) == (q.end - q.start).days + 1


def test_q4_2026_has_fourteen_weeks_starting_thursday_first_of_october():
    weeks = Quarter(2026, 4).weeks()
    assert len(weeks) == 14
    assert weeks[0] == (date(2026, 10, 1), date(2026, 10, 4))
    assert weeks[-1] == (date(2026, 12, 28), date(2026, 12, 31))
