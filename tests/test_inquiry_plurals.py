"""The report's sentences agree with their counts (projections.inquiry.plurals): French
takes the singular for 0 and 1, English for 1 only; no "(s)" is left in any sentence."""

from __future__ import annotations

import re

import pytest

from projections.inquiry.plurals import agree
from projections.inquiry.strings import STRINGS


@pytest.mark.parametrize(("lang", "n", "expected"), [
    ("fr", 0, "0 ligne concerne"), ("fr", 1, "1 ligne concerne"),
    ("fr", 2, "2 lignes concernent"), ("fr", "1\u202f234", "1\u202f234 lignes concernent"),
    ("en", 0, "0 rows are"), ("en", 1, "1 row is"), ("en", 3, "3 rows are")])
def test_a_sentence_agrees_with_its_count(lang: str, n: object, expected: str) -> None:
    assert expected in agree(STRINGS[lang]["left_out_subjects"], lang, n=n)


def test_each_mark_agrees_with_the_count_before_it() -> None:
    assert agree("{c} collecte(s), {d} communication(s)", "fr", c=1, d=3) == \
        "1 collecte, 3 communications"
    assert agree("{n} checkpoint(s) [agrees|agree] in {zone}", "en", n=1, zone="UTC") == \
        "1 checkpoint agrees in UTC"


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("n", [0, 1, 2])
def test_no_mark_is_left_in_any_sentence(lang: str, n: int) -> None:
    for key, text in STRINGS[lang].items():
        names = set(re.findall(r"\{(\w+)\}", text))
        out = agree(text, lang, **dict.fromkeys(names, n))
        assert "(s)" not in out and "(nt)" not in out and "|" not in out, (key, out)
