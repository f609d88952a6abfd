"""Hand-built boundary cases of CONTRACT.md §12 (retention), on every selected backend.

Rows are (cohort, period, cohort_size, active, complete[, value, value_retention]).
"""

from __future__ import annotations

import pytest

from tests.retention_depth.support import day, frame, make_layer, rows

D5, D6 = day("2024-01-05"), day("2024-01-06")


def test_exactly_24h_is_day_1_and_a_second_less_is_day_0(backend, tmp_path):
    ev = frame(
        [
            (1, "signup", "2024-01-05 10:00:00"),
            (1, "session", "2024-01-06 10:00:00"),  # exactly 24 h: day 1
            (2, "signup", "2024-01-05 10:00:00"),
            (2, "session", "2024-01-06 09:59:59"),  # 23:59:59: day 0
            (3, "signup", "2024-01-05 12:00:00"),
            (3, "session", "2024-01-08 12:00:00"),  # end of data
        ]
    )
    layer = make_layer(backend, tmp_path, ev)
    got = rows(backend, layer.retention("dayly", period_mode="since_entry", periods=4))
    assert got == [
        (D5, 0, 3, 1, True),
        (D5, 1, 3, 1, True),
        (D5, 2, 3, 0, True),  # ends 2024-01-08 12:00 for user 3: exactly the end of data
        (D5, 3, 3, 1, False),  # reached by users 1, 2 (10:00 + 3 d), not over for anyone
    ]


def test_entry_at_23_and_activity_next_day_at_1_is_day_0_since_entry_day_1_calendar(
    backend, tmp_path
):
    ev = frame(
        [
            (1, "signup", "2024-01-05 23:00"),
            (1, "session", "2024-01-06 01:00"),
            (2, "signup", "2024-01-07 12:00"),
        ]
    )
    layer = make_layer(backend, tmp_path, ev)
    since = rows(backend, layer.retention("dayly", period_mode="since_entry", periods=2))
    calendar = rows(backend, layer.retention("dayly", periods=2))
    d7 = day("2024-01-07")
    assert since == [(D5, 0, 1, 1, True), (D5, 1, 1, 0, False), (d7, 0, 1, 0, False)]
    assert calendar == [(D5, 0, 1, 0, True), (D5, 1, 1, 1, True), (d7, 0, 1, 0, False)]


def test_complete_needs_every_member_and_a_row_needs_one(backend, tmp_path):
    ev = frame(
        [
            (1, "signup", "2024-01-01 00:00"),
            (2, "signup", "2024-01-01 18:00"),
            (1, "session", "2024-01-02 06:00"),
        ]
    )
    layer = make_layer(backend, tmp_path, ev)
    # as_of 2024-01-02 12:00: day 1 reached by user 1 (00:00 + 24 h) only, not user 2
    got = rows(
        backend,
        layer.retention("dayly", period_mode="since_entry", as_of="2024-01-02 12:00"),
    )
    jan1 = day("2024-01-01")
    assert got == [(jan1, 0, 2, 0, False), (jan1, 1, 2, 1, False)]
    got = rows(
        backend,
        layer.retention("dayly", period_mode="since_entry", as_of="2024-01-02 18:00"),
    )
    assert got == [(jan1, 0, 2, 0, True), (jan1, 1, 2, 1, False)]  # day 0 of user 2 ends 18:00


def test_brackets_boundaries_labels_and_first_period_rule(backend, tmp_path):
    ev = frame(
        [
            (1, "signup", "2024-01-01 09:00"),
            (1, "session", "2024-01-02 09:00"),  # day 1 -> bracket 1-1
            (1, "session", "2024-01-08 08:59"),  # day 6 -> bracket 2-7
            (2, "signup", "2024-01-01 10:00"),
            (2, "session", "2024-01-09 10:00"),  # day 8 -> between brackets: not counted
            (3, "signup", "2024-01-01 11:00"),
            (3, "session", "2024-01-09 09:00"),  # day 7 (7 d 22 h) -> bracket 2-7
        ]
    )
    layer = make_layer(backend, tmp_path, ev)
    res = layer.retention("dayly", period_mode="since_entry", brackets=[(0, 0), (1, 1), (2, 7)])
    df = backend.fetch(res.expr)
    assert list(df["bracket"]) == ["0-0", "1-1", "2-7"]
    assert rows(backend, res) == [
        (day("2024-01-01"), 0, 3, 0, True),
        (day("2024-01-01"), 1, 3, 1, True),
        (day("2024-01-01"), 2, 3, 2, False),  # day 7 of user 3 ends 2024-01-09 11:00
    ]
    # a bracket appears once its first period is observed: 9-10 not yet (day 8 is the last)
    res = layer.retention("dayly", period_mode="since_entry", brackets=[(0, 0), (8, 8), (9, 10)])
    assert [r[1] for r in rows(backend, res)] == [0, 1]
    rolling = layer.retention(
        "dayly", period_mode="since_entry", mode="rolling", brackets=[(0, 0), (1, 1), (2, 7)]
    )
    # rolling: active at the bracket's first period or later (user 2's day 8 counts)
    assert [r[3] for r in rows(backend, rolling)] == [3, 3, 3]


def test_calendar_weekly_brackets(backend, tmp_path):
    ev = frame(
        [
            (1, "signup", "2024-01-07 23:00"),  # a Sunday: week of 2024-01-01
            (1, "session", "2024-01-08 00:30"),  # calendar week 1
            (1, "session", "2024-01-29 00:00"),  # week 4
        ]
    )
    layer = make_layer(backend, tmp_path, ev)
    res = layer.retention("weekly", brackets=["0-0", "1-2", "3-4"])
    assert rows(backend, res) == [
        (day("2024-01-01"), 0, 1, 0, True),
        (day("2024-01-01"), 1, 1, 1, True),
        (day("2024-01-01"), 2, 1, 1, False),
    ]
    since = layer.retention("weekly", period_mode="since_entry", brackets=["0-0", "1-2", "3-4"])
    # 2024-01-08 00:30 is week 0 since entry; 01-29 00:00 is 3 weeks and 1 h: week 3
    assert rows(backend, since) == [
        (day("2024-01-01"), 0, 1, 1, True),
        (day("2024-01-01"), 1, 1, 0, True),  # weeks 1-2 ended 2024-01-28 23:00
        (day("2024-01-01"), 2, 1, 1, False),
    ]


def test_value_zero_when_none_and_value_retention_null_on_zero_or_null_base(backend, tmp_path):
    ev = frame(
        [
            (1, "signup", "2024-01-01 10:00"),
            (1, "purchase", "2024-01-01 09:00", 99.0),  # before entry: not counted
            (1, "purchase", "2024-01-02 10:00", 30.0),  # day 1
            (2, "signup", "2024-01-02 10:00"),
            (2, "purchase", "2024-01-02 11:00", None),  # day 0: only a NULL amount
            (2, "purchase", "2024-01-03 12:00", 5.0),
            (3, "signup", "2024-01-03 10:00"),
            (3, "purchase", "2024-01-03 10:00", 8.0),  # at entry: day 0
            (3, "purchase", "2024-01-04 09:00", 4.0),
        ]
    )
    layer = make_layer(backend, tmp_path, ev)
    got = rows(
        backend, layer.retention("dayly", period_mode="since_entry", value="revenue"), value=True
    )
    d1, d2, d3 = day("2024-01-01"), day("2024-01-02"), day("2024-01-03")
    assert got == [
        (d1, 0, 1, 0, True, 0.0, None),  # no rows in day 0: value 0, base 0 -> NULL
        (d1, 1, 1, 0, True, 30.0, None),
        (d1, 2, 1, 0, False, 0.0, None),
        (d2, 0, 1, 0, True, None, None),  # rows, all NULL: NULL, base NULL -> NULL
        (d2, 1, 1, 0, False, 5.0, None),
        (d3, 0, 1, 0, False, 12.0, 1.0),  # 10:00 and next day 09:00: both day 0
    ]
    calendar = rows(
        backend, layer.retention("dayly", value="revenue", brackets=[(0, 0), (1, 3)]), value=True
    )
    assert calendar[-2:] == [(d3, 0, 1, 0, True, 8.0, 1.0), (d3, 1, 1, 0, False, 4.0, 0.5)]


@pytest.mark.parametrize(
    "bad", [[(1, 1), (0, 0)], [(0, 2), (2, 3)], [(-1, 0)], [(3, 2)], ["x"], []]
)
def test_bad_brackets_are_one_line_query_errors(backend, tmp_path, bad):
    import metrics_layer as ml

    layer = make_layer(backend, tmp_path, frame([(1, "signup", "2024-01-01")]))
    with pytest.raises(ml.QueryError) as err:
        layer.retention("dayly", brackets=bad)
    assert "\n" not in str(err.value) and "bracket" in str(err.value)
