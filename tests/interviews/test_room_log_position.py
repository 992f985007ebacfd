"""A room knows how much of the log it has without a gap, whatever order rows reach it in."""

from __future__ import annotations

from pycrdt import Doc

from webapp.interviews.live.room import Room


def _room() -> Room:
    return Room(interview_id=1, doc=Doc(), last_id=10, applied=100, finished=False)


def test_rows_in_log_order_advance_the_room() -> None:
    room = _room()
    room.cover(start=100, end=130, last_id=11)
    room.cover(start=130, end=131, last_id=12)
    assert (room.applied, room.last_id, room.ahead) == (131, 12, {})


def test_a_row_past_a_gap_waits_until_the_gap_is_filled() -> None:
    room = _room()
    room.cover(start=140, end=150, last_id=14)  # this process's own commit, before another's earlier notice
    assert (room.applied, room.last_id) == (100, 10), "the gap 100..140 is not covered yet"
    assert room.has(end=150) and not room.has(end=140)
    room.cover(start=100, end=140, last_id=13)
    assert (room.applied, room.last_id, room.ahead) == (150, 14, {})


def test_a_row_already_covered_changes_nothing() -> None:
    room = _room()
    room.cover(start=90, end=100, last_id=9)
    assert (room.applied, room.last_id) == (100, 10)
    assert room.has(end=100) and not room.has(end=101)


def test_a_read_of_the_log_past_the_gap_drops_what_it_covered() -> None:
    room = _room()
    room.cover(start=120, end=125, last_id=13)
    room.cover(start=130, end=160, last_id=15)
    for start, end, row in [(100, 120, 12), (120, 125, 13), (125, 130, 14)]:  # as _read_log covers rows
        room.cover(start=start, end=end, last_id=row)
    assert (room.applied, room.last_id, room.ahead) == (160, 15, {})
