"""The numbers pages show, computed outside the templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from webapp.web.formatting import line_count, percent, seconds_since, waited

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_waiting_time_reads_in_the_coarsest_unit_that_fits() -> None:
    assert waited(NOW - timedelta(minutes=59, seconds=59), NOW) == "59 min"
    assert waited(NOW - timedelta(minutes=60), NOW) == "1 h"
    assert waited(NOW - timedelta(hours=47, minutes=59), NOW) == "47 h"
    assert waited(NOW - timedelta(hours=48), NOW) == "2 days"


def test_seconds_percent_and_lines() -> None:
    assert seconds_since(NOW - timedelta(seconds=12.4), NOW) == 12
    assert percent(0.555) == 56 and percent(None) == 0 and percent(1) == 100
    assert line_count("a") == 1 and line_count("a\nb\n") == 3


def test_counted_nouns_agree_with_their_number() -> None:
    from webapp.web.formatting import counted

    assert [counted(n, "question") for n in (0, 1, 2)] == ["0 questions", "1 question", "2 questions"]


def test_durations_read_as_a_clock() -> None:
    from webapp.web.formatting import clock

    assert [clock(s) for s in (None, 0, 40, 300, 3725)] == ["—", "0:00", "0:40", "5:00", "1:02:05"]


def test_a_moment_is_a_time_element_in_utc_for_the_browser_to_localise() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from webapp.web.formatting import when

    moment = datetime(2026, 12, 2, 9, 5, 7, tzinfo=timezone(timedelta(hours=2)))  # 07:05:07 UTC
    html = str(when(moment, "seconds"))
    assert 'data-local="seconds"' in html and 'title="2026-12-02 07:05:07 UTC"' in html
    assert html.endswith(">2026-12-02 07:05:07 UTC</time>") and str(when(moment.astimezone(UTC), "date")).endswith(
        ">2026-12-02 UTC</time>")
