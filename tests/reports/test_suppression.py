"""Small-cell suppression (reports/suppression.py): tables are generated, published, then attacked.

The attacker (tests/reports/attacker.py) knows the rule: a "<5" cell is 1 to 4, an "x" cell is at least 5, zero
is shown. From everything a table publishes (its cells, row and column totals, grand total) it solves, by exact
linear programming, for the smallest and largest value each hidden entry can take; the test fails when the two
meet, that is when a hidden value is determined exactly."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports import suppression
from reports.suppression import COMPLEMENTARY, PRIMARY, SHOWN, WITHHELD, Cover, Figure, Grid, publish
from tests.reports.attacker import hidden_ranges

LIMIT = 5
VALUES = st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 20, 45])


@st.composite
def grids(draw, max_rows: int = 4, max_cols: int = 4):
    rows = draw(st.integers(min_value=1, max_value=max_rows))
    cols = draw(st.integers(min_value=1, max_value=max_cols))
    cells = [[draw(VALUES) for _ in range(cols)] for _ in range(rows)]
    row_totals = cols >= 2 and draw(st.booleans())
    col_totals = rows >= 2 and (draw(st.booleans()) or not row_totals)
    return Grid(id="g", cells=cells, row_totals=row_totals, col_totals=col_totals)


def _statuses(grid, publication):
    return {p: publication.figure(grid.key(p)).status for p in grid.positions()}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids())
def test_no_hidden_value_can_be_worked_out_from_a_published_table(grid):
    publication = publish(grids=[grid], limit=LIMIT)
    statuses = _statuses(grid, publication)
    if grid.id in publication.withheld:
        assert set(statuses.values()) == {WITHHELD}
        return
    for position, status in statuses.items():
        value = grid.value(position)
        figure = publication.figure(grid.key(position))
        if 0 < value < LIMIT:
            assert status == PRIMARY and figure.text == "<5"  # every small count is hidden
        elif value == 0:
            assert status == SHOWN and figure.text == "0"  # zero is shown
        else:
            assert status in (SHOWN, COMPLEMENTARY)
            assert figure.text == (str(value) if status == SHOWN else "x")
        assert (figure.value == value) if status == SHOWN else figure.value is None
    for position, (low, high) in hidden_ranges(grid, publication, LIMIT).items():
        assert low is not None and high is not None, "the true values satisfy what is published"
        assert low <= grid.value(position) <= high
        assert low < high, (f"hidden entry {position} = {grid.value(position)} is determined by the table "
                            f"{grid.cells} (row totals {grid.row_totals}, column totals {grid.col_totals})")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids(max_rows=6, max_cols=3))
def test_a_bigger_table_is_protected_too(grid):
    publication = publish(grids=[grid], limit=LIMIT)
    if grid.id in publication.withheld:
        return
    for (low, high) in hidden_ranges(grid, publication, LIMIT).values():
        assert low < high


def test_a_single_small_cell_takes_a_complement_in_its_row_its_column_and_their_totals():
    grid = Grid(id="g", cells=[[20, 3, 9], [14, 0, 8], [6, 7, 30]], row_totals=True, col_totals=True)

    publication = publish(grids=[grid], limit=LIMIT)

    table = [[figure.text if figure else None for figure in row] for row in publication.grid(grid)]
    assert table[0][1] == "<5"
    assert sum(text == "x" for row in table for text in row if text) >= 3  # a cycle: its row, its column, a corner
    ranges = hidden_ranges(grid, publication, LIMIT)
    assert all(low < high for low, high in ranges.values())
    low, high = ranges[(0, 1)]
    assert (low, high) != (3, 3)


def test_without_complements_the_attacker_would_recover_the_cell():
    """The test's attacker is not toothless: the same table with only the small cell hidden gives it away."""
    grid = Grid(id="g", cells=[[20, 3, 9], [14, 0, 8]], row_totals=True, col_totals=True)
    naive = suppression.Publication(threshold=LIMIT, withheld=set(), figures={
        grid.key(p): Figure(PRIMARY if 0 < grid.value(p) < LIMIT else SHOWN,
                            None if 0 < grid.value(p) < LIMIT else grid.value(p), LIMIT)
        for p in grid.positions()})

    assert hidden_ranges(grid, naive, LIMIT)[(0, 1)] == (3, 3)


def test_bounds_alone_can_give_a_value_away_and_the_table_is_then_withheld():
    # Four "<5" parts of a "<5" total: each at least 1, together at most 4, so each is exactly 1.
    grid = Grid(id="g", cells=[[1], [1], [1], [1]], col_totals=True)

    publication = publish(grids=[grid], limit=LIMIT)

    assert grid.id in publication.withheld
    assert {figure.status for figure in publication.figures.values()} == {WITHHELD}


def test_two_small_parts_of_a_shown_total_need_a_third_hidden():
    # 10 = 8 + 1 + 1: two "<5" alone would each be 1 (they add up to 2, and each is at least 1).
    grid = Grid(id="g", cells=[[8], [1], [1]], col_totals=True)

    publication = publish(grids=[grid], limit=LIMIT)

    assert [publication.figure(grid.key((r, 0))).text for r in range(4)] == ["x", "<5", "<5", "10"]
    assert all(low < high for low, high in hidden_ranges(grid, publication, LIMIT).values())


def test_a_total_shared_by_two_tables_is_never_a_complement_and_a_small_one_withholds_both():
    by_sex = Grid(id="sex", cells=[[3, 9]], row_totals=True, keys={(0, 2): "total"})
    by_setting = Grid(id="setting", cells=[[10], [2]], col_totals=True, keys={(2, 0): "total"})

    publication = publish(grids=[by_sex, by_setting], singles={"total": 12}, limit=LIMIT)

    assert publication.figure("total").text == "12"
    assert publication.withheld == set()
    assert [f.text for f in publication.grid(by_sex)[0]] == ["<5", "x", "12"]

    small = publish(grids=[Grid(id="a", cells=[[1, 2]], row_totals=True, keys={(0, 2): "t"}),
                           Grid(id="b", cells=[[3], [0]], col_totals=True, keys={(2, 0): "t"})],
                    singles={"t": 3}, limit=LIMIT)
    assert small.withheld == {"a", "b"}
    assert small.figure("t").text == "<5"


def test_months_that_cover_a_quarters_people_are_protected_from_the_sum():
    # 12 clients in the quarter, 4 in each month: every month "<5" and together at most 12, so each would be 4.
    pinned = publish(covers=[Cover(id="c", total="q", members=[("m1", 4), ("m2", 4), ("m3", 4)])],
                     singles={"q": 12}, limit=LIMIT)
    assert pinned.withheld == {"c"}
    assert {pinned.figure(key).status for key in ("m1", "m2", "m3")} == {WITHHELD}

    room = publish(covers=[Cover(id="c", total="q", members=[("m1", 4), ("m2", 4), ("m3", 6)])],
                   singles={"q": 12}, limit=LIMIT)
    assert [room.figure(key).text for key in ("m1", "m2", "m3", "q")] == ["<5", "<5", "6", "12"]


def test_rates_are_shown_only_from_shown_counts_with_a_denominator_at_the_threshold():
    shown, small = Figure(SHOWN, 8, LIMIT), Figure(PRIMARY, None, LIMIT)
    assert suppression.rate(Figure(SHOWN, 2, LIMIT), Figure(SHOWN, 8, LIMIT), threshold=LIMIT).text == "25.0"
    assert suppression.rate(small, shown, threshold=LIMIT).text == "–"  # the rate would give the "<5" back
    assert suppression.rate(Figure(SHOWN, 0, LIMIT), Figure(SHOWN, 4, LIMIT), threshold=LIMIT).text == "–"
    assert suppression.rate(Figure(SHOWN, 0, LIMIT), Figure(SHOWN, 5, LIMIT), threshold=LIMIT).text == "0.0"
    assert suppression.rate(Figure(COMPLEMENTARY, None, LIMIT), shown, threshold=LIMIT).chart_value is None
    assert suppression.summary(2.5, Figure(SHOWN, 4, LIMIT), threshold=LIMIT).text == "–"
    assert suppression.summary(2.5, Figure(SHOWN, 5, LIMIT), threshold=LIMIT).text == "2.5"


def test_the_threshold_is_a_setting_of_three_or_more(settings):
    settings.REPORTS_SUPPRESSION_THRESHOLD = 10
    publication = publish(singles={"a": 9, "b": 10})
    assert (publication.figure("a").text, publication.figure("b").text) == ("<10", "10")
    assert "from 1 to 9" in suppression.note()

    settings.REPORTS_SUPPRESSION_THRESHOLD = 2
    with pytest.raises(ImproperlyConfigured):
        publish(singles={"a": 1})
    from reports.checks import suppression_threshold

    assert [error.id for error in suppression_threshold(None)] == ["reports.E001"]


def test_a_hidden_figure_is_drawn_as_missing_never_as_zero():
    publication = publish(singles={"small": 3, "none": 0, "some": 7}, limit=LIMIT)
    assert [publication.figure(key).chart_value for key in ("small", "none", "some")] == [None, 0, 7]
