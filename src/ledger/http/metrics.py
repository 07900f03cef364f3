"""The server's metrics in the Prometheus text format (``GET /metrics``).

One :class:`Metrics` per app, over its own ``CollectorRegistry`` (never the
client library's global one: a process may build many apps — one per ledger
of a routing file, many in tests — and each ledger is scraped on its own).

What is counted, and where:

* ``ledger_append_requests_total``, ``ledger_appends_total``: each call of
  ``ctx.append`` that stored or replayed its events, and the events it newly
  stored (a retry answered from the stored entry stores nothing);
* ``ledger_rejections_total{rule, field}``: every 4xx problem that names a rule
  (:mod:`ledger.http.problems`);
* ``ledger_http_request_duration_seconds{method, route}`` and
  ``ledger_http_responses_total{method, route, status}``: every HTTP request,
  by route *template* (``/v1/subjects/{ref}/consent``), never the path as sent
  (:mod:`ledger.http.logs`);
* ``ledger_verifications_total{result}`` and
  ``ledger_last_verification_timestamp{result}``: each run of ``GET /v1/verify``'s child
  (``ok``, ``failed``: the chain does not verify; ``error``: no verdict);
* ``ledger_head_seq``, ``ledger_projection_lag{projection}``,
  ``ledger_database_up``: read at scrape time (:class:`LiveCollector`).

No label value can carry personal data or grow without bound: route templates
come from the app's routes, a method outside :data:`METHODS` reads ``(other)``;
a rule and a field name come from the code (errors never quote a value,
``ledger.errors``), and :func:`rule_label` still blanks what a rule may quote
(numbers, quoted or bracketed text); past :data:`MAX_REJECTION_LABELS` pairs,
new ones are counted as ``(other)``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["MAX_REJECTION_LABELS", "LiveCollector", "Metrics", "field_label", "rule_label"]

MAX_REJECTION_LABELS = 200     # distinct (rule, field) pairs before "(other)"
MAX_LABEL = 120                # characters of a rule or field label
OTHER = "(other)"
# request latencies: from a cached read to a long verification
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
VERDICTS = ("ok", "failed", "error")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_BRACKETED = re.compile(r"\([^()]*\)")
_NUMBER = re.compile(r"\d+")


def rule_label(rule: str) -> str:
    """A rule as a label: what it may quote (a number, a quoted or bracketed part)
    blanked, so that one rule is one label value whatever the request."""
    text = _NUMBER.sub("N", _BRACKETED.sub("(…)", _QUOTED.sub("'…'", rule)))
    return text[:MAX_LABEL]


def field_label(field: str) -> str:
    """A field path as a label, its positions blanked (``data.values[3]`` →
    ``data.values[N]``, ``subjects.0`` → ``subjects.N``)."""
    return _NUMBER.sub("N", field)[:MAX_LABEL]


class LiveCollector(Collector):
    """The gauges read at scrape time: the database, the head, the projections' lag.

    ``read()`` returns ``(head, {projection: seq processed})`` and raises when the
    database does not answer (then only ``ledger_database_up 0`` is reported)."""

    def __init__(self, read: Callable[[], tuple[int, Mapping[str, int]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("ledger_database_up",
                               "1 when the ledger's database answered this scrape, else 0")
        try:
            head, progress = self.read()
        except Exception:  # noqa: BLE001 - a scrape reports the outage, it does not fail
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("ledger_head_seq", "seq of the ledger's last entry",
                                value=head)
        lag = GaugeMetricFamily("ledger_projection_lag", "entries of the ledger a "
                                "projection has not processed yet", labels=["projection"])
        for name, seq in sorted(progress.items()):
            lag.add_metric([name], max(head - seq, 0))
        yield lag


class Metrics:
    """The metrics of one app (one ledger)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.append_requests = Counter(
            "ledger_append_requests", "append requests that stored or replayed their events",
            registry=r)
        self.appends = Counter("ledger_appends", "events appended to the ledger", registry=r)
        self.rejections = Counter(
            "ledger_rejections", "requests refused (4xx) for a rule, by rule and field",
            ["rule", "field"], registry=r)
        self.durations = Histogram(
            "ledger_http_request_duration_seconds", "time to answer an HTTP request, by "
            "method and route template", ["method", "route"], buckets=BUCKETS, registry=r)
        self.responses = Counter(
            "ledger_http_responses", "HTTP answers by method, route template and status",
            ["method", "route", "status"], registry=r)
        self.verifications = Counter(
            "ledger_verifications", "runs of the chain's verification (GET /v1/verify) by "
            "result: ok, failed (does not verify), error (no verdict)", ["result"],
            registry=r)
        self.last_verification = Gauge(
            "ledger_last_verification_timestamp", "Unix time at which the last verification "
            "with this result ended", ["result"], registry=r)
        for verdict in VERDICTS:  # present at 0 from the start: rate() and alerts need them
            self.verifications.labels(verdict)
        self._rejection_pairs: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def watch(self, read: Callable[[], tuple[int, Mapping[str, int]]]) -> None:
        """Report the head and the projections' lag at each scrape, read by ``read``."""
        self.registry.register(LiveCollector(read))

    # -- observations ----------------------------------------------------------------
    def appended(self, new_events: int) -> None:
        self.append_requests.inc()
        if new_events:
            self.appends.inc(new_events)

    def rejected(self, rule: str, field: str | None) -> None:
        pair = (rule_label(rule), field_label(field or ""))
        with self._lock:
            if pair not in self._rejection_pairs:
                if len(self._rejection_pairs) >= MAX_REJECTION_LABELS:
                    pair = (OTHER, OTHER)
                else:
                    self._rejection_pairs.add(pair)
        self.rejections.labels(*pair).inc()

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else OTHER  # a client may send any token
        self.durations.labels(method, route).observe(seconds)
        self.responses.labels(method, route, str(status)).inc()

    def verified(self, result: dict[str, Any] | None) -> None:
        """A verification run ended: its verdict (``None``: it gave none)."""
        verdict = "error" if result is None else "ok" if result.get("ok") else "failed"
        self.verifications.labels(verdict).inc()
        self.last_verification.labels(verdict).set(time.time())

    # -- exposition --------------------------------------------------------------------
    def exposition(self) -> bytes:
        """The text format of every metric (blocking: reads the database)."""
        return generate_latest(self.registry)
