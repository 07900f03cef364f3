"""The inquiry's charts (matplotlib SVG): marks counted, deterministic output."""

from __future__ import annotations

import re

from projections.inquiry.charts import MAX_BARS, consent_timeline, request_days
from projections.inquiry.strings import STRINGS

LABELS = STRINGS["en"]


def _request(i: int, taken_days: int) -> dict[str, str]:
    return {"request_id": f"R-{i}", "received_at": "2026-03-01T10:00:00.000000Z",
            "closed_at": f"2026-03-{1 + taken_days:02d}T10:00:00.000000Z",
            "due_at": "2026-04-01T09:00:00.000000Z"}


def _marks(svg: str, kind: str) -> int:
    return len(re.findall(rf'<g id="mark-{kind}-\d+"', svg))


def test_one_bar_per_request_then_a_histogram() -> None:
    few = request_days([_request(i, i % 5) for i in range(3)], "2026-04-01T00:00:00Z", LABELS)
    assert few["marks"] == 3 == _marks(few["svg"], "requests")
    many = request_days([_request(i, i % 10) for i in range(MAX_BARS + 10)],
                        "2026-04-01T00:00:00Z", LABELS)
    assert many["marks"] == 10 == _marks(many["svg"], "requests")  # 0..9 days taken
    assert many["rows"] == [[d, 5] for d in range(10)]
    assert "50 requests," in many["alt"] and "0 late" in many["alt"]


def test_timeline_marks_and_determinism() -> None:
    by_time = [(("2026-03-03T09:00:00.000000Z", "given"), 4),
               (("2026-03-05T09:00:00.000000Z", "withdrawn"), 1)]
    args = (by_time, "2026-02-28T23:00:00.000000Z", "2026-03-07T22:59:59.999999Z",
            "Europe/Paris", LABELS)
    chart = consent_timeline(*args)
    assert chart["marks"] == 7 * 3 == _marks(chart["svg"], "consent")
    assert chart["rows"] == [["2026-03-03", 4, 0, 0], ["2026-03-05", 0, 0, 1]]
    assert consent_timeline(*args)["svg"] == chart["svg"]  # same input, same bytes
    assert "<script" not in chart["svg"] and "http://www.w3.org" in chart["svg"]
