"""Quadtree cell ids of the SQLite spatial prefilter (storage/sql/geo_cells.py).

The prefilter may return more than a geo-query matches, never less: every geometry whose box
touches the query box must have its cell inside one of the covering ranges.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cityhub.storage.sql.geo_cells import (
    LEVELS,
    cell_id,
    cell_of_box,
    cell_range,
    covering_ranges,
)

lon = st.floats(-180, 180, allow_nan=False)
lat = st.floats(-90, 90, allow_nan=False)
small = st.floats(0, 0.05, allow_nan=False)
any_size = st.one_of(small, st.floats(0, 400, allow_nan=False))


@st.composite
def boxes(draw: st.DrawFn, size: st.SearchStrategy[float] = any_size) -> tuple[float, ...]:
    x, y = draw(lon), draw(lat)
    return x, y, x + draw(size), y + draw(size)


def _inside(cell: int, ranges: list[tuple[int, int]]) -> bool:
    return any(low <= cell <= high for low, high in ranges)


def _touch(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


@settings(max_examples=500)
@given(boxes(), boxes())
def test_every_box_touching_the_query_box_is_in_its_covering(
    stored: tuple[float, ...], query: tuple[float, ...]
) -> None:
    if _touch(stored, query):
        assert _inside(cell_of_box(*stored), covering_ranges(*query))


@settings(max_examples=300)
@given(boxes(small), st.floats(-0.01, 0.01), st.floats(-0.01, 0.01))
def test_nearby_small_boxes_are_found(stored: tuple[float, ...], dx: float, dy: float) -> None:
    x, y = stored[0] + dx, stored[1] + dy
    query = (x, y, x + 0.001, y + 0.001)
    if _touch(stored, query):
        assert _inside(cell_of_box(*stored), covering_ranges(*query))


def test_a_point_is_filed_at_the_finest_level() -> None:
    cell = cell_of_box(126.978, 37.5665, 126.978, 37.5665)
    assert cell & 1 == 1  # the marker bit sits at the bottom only at level 30


def test_the_whole_world_is_the_root_cell() -> None:
    assert cell_of_box(-180, -90, 180, 90) == cell_id(0, 0, 0) == 1 << (2 * LEVELS)


def test_a_cell_range_holds_exactly_its_descendants() -> None:
    low, high = cell_range(1, 1, 0)
    children = [cell_id(2, 2 + dx, dy) for dx in (0, 1) for dy in (0, 1)]
    assert all(low <= child <= high for child in children)
    assert cell_id(1, 1, 0) in range(low, high + 1)
    for neighbour in (cell_id(1, 0, 0), cell_id(1, 0, 1), cell_id(1, 1, 1), cell_id(0, 0, 0)):
        assert not low <= neighbour <= high


def test_far_away_points_are_outside_a_small_covering() -> None:
    seoul = cell_of_box(126.978, 37.5665, 126.978, 37.5665)
    tokyo = cell_of_box(139.6917, 35.6895, 139.6917, 35.6895)
    ranges = covering_ranges(126.97, 37.56, 126.99, 37.57)
    assert _inside(seoul, ranges)
    assert not _inside(tokyo, ranges)


def test_covering_has_few_ranges_and_ids_fit_in_a_signed_64_bit_integer() -> None:
    ranges = covering_ranges(126.9, 37.5, 127.1, 37.7)
    assert len(ranges) <= 16 + LEVELS * 4
    assert all(0 < low <= high < 2**63 for low, high in ranges)
