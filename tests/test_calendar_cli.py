"""Times for people in the policy's time zone (``ledger`` subprocess, both databases).

Human output shows Paris wall time with its offset; ``--json`` and the chain stay UTC.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import collect, consent
from tests.test_projections_cli import js, run


def test_human_output_in_paris_time_json_in_utc(cli_env: dict[str, str],
                                                tmp_path: Path) -> None:
    run(cli_env, "init")
    run(cli_env, "policy", "publish", "bundled")
    at = "2026-01-31T00:30:00+01:00"  # = 2026-01-30T23:30Z
    events = [consent("jan31@example.org", "cookies_audience", at=at),
              collect("jan31@example.org", {"visitor_id": "v-1"}, at=at,
                      category="tracker_audience", purpose="cookies_audience"),
              {"type": "RightsRequestReceived", "subject": "mar31@example.org",
               "occurred_at": "2026-03-31T00:30:00+02:00",
               "data": {"request_id": "R-31", "right": "access", "channel": "email"}}]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    run(cli_env, "append", str(path))

    # ledger show / log: Paris wall time with its offset, seconds included
    shown = run(cli_env, "show", "2").stdout
    assert shown.startswith("#2 2026-01-31 00:30:00 +01:00 ConsentGiven"), shown
    log = run(cli_env, "log").stdout
    assert "2026-03-31 00:30 +02:00  RightsRequestReceived" in log  # the log's table
    assert "2026-01-30" not in log  # the UTC date of the collection is not shown
    # --json stays UTC
    assert js(cli_env, "show", "2", "--json")["occurred_at"] == "2026-01-30T23:30:00.000000Z"
    assert "time zone Europe/Paris" in run(cli_env, "policy", "show").stdout

    # the registers: deadlines on the Paris calendar, shown in Paris time
    retention = run(cli_env, "retention").stdout
    assert "(times in Europe/Paris)" in retention  # the table shows Paris wall times
    assert "2027-02-28 00:30 active" in retention
    assert js(cli_env, "retention", "--json")["items"][0]["deadline"] == \
        "2027-02-27T23:30:00.000000Z"
    requests = run(cli_env, "requests").stdout
    assert "2026-03-31 00:30 2026-04-30 00:30 open OVERDUE" in requests, requests
    assert js(cli_env, "requests", "--json")["requests"][0]["due_at"] == \
        "2026-04-29T22:30:00.000000Z"
    replay = run(cli_env, "replay", "--subject", "jan31@example.org").stdout
    assert "#3 2026-01-31 00:30:00 +01:00 DataCollected" in replay, replay
