"""The console's languages: every marked text has its French translation, and the French
catalogue holds nothing that is not used (Babel's extractors over the templates and the
page modules); plural forms follow French rules."""

from __future__ import annotations

from projections.console.i18n import choose, translations
from projections.console.messages import catalogue, marked, report


def test_every_marked_text_is_translated_and_nothing_else() -> None:
    texts = marked()
    assert len(texts) > 15  # the extractor found the templates' texts
    missing, obsolete = report()
    assert missing == [], [(k, texts[k]) for k in missing]
    assert obsolete == []


def test_translations_keep_their_placeholders() -> None:
    import re

    for key, values in catalogue().items():
        source = [key] if isinstance(key, str) else list(key)
        wanted = {p for s in source for p in re.findall(r"%\((\w+)\)[sd]", s)}
        for value in values:
            assert set(re.findall(r"%\((\w+)\)[sd]", value)) == wanted, key


def test_french_is_the_default_and_plurals_are_french() -> None:
    assert choose(None) == "fr" and choose("de") == "fr" and choose("en") == "en"
    fr = translations("fr")
    assert fr.gettext("Log out") == "Se déconnecter"
    assert translations("en").gettext("Log out") == "Log out"
    # French: 0 and 1 take the singular (nplurals=2; plural=(n > 1))
    assert fr.plural(0) == 0 and fr.plural(1) == 0 and fr.plural(2) == 1  # type: ignore[attr-defined]
