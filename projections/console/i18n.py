"""The console's languages: gettext catalogues (Babel), French by default.

The texts of the templates and the pages are written in English and marked for
translation (``{% trans %}``, ``_()``, ``ngettext()``); the French catalogue is
``locale/fr/LC_MESSAGES/*.po`` — one file per area of the console, merged when loaded,
so that each area's texts stay beside each other.  The ``.po`` files are the source:
they are compiled in memory when the console starts (Babel's ``read_po``/``write_mo``),
so no binary catalogue is kept in the repository.  ``tests/test_console_i18n.py``
extracts every marked text (Babel's extractors) and checks that the French catalogue
translates each one, and holds nothing else.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

__all__ = ["DEFAULT", "LANGUAGES", "LOCALES", "N_", "choose", "translations"]

LANGUAGES = ("fr", "en")
DEFAULT = "fr"
LOCALES = {"fr": "fr_FR", "en": "en_GB"}  # Babel's formats (dates, numbers)


def N_(s: str) -> str:  # noqa: N802 - the name Babel extracts
    """Marks a text for translation where it is defined (a label in a table); the
    template translates it when it shows it (``_(label)``)."""
    return s


def choose(wanted: str | None) -> str:
    """The language to show: the one asked for if the console has it, else French."""
    return wanted if wanted in LANGUAGES else DEFAULT


@cache
def translations(lang: str) -> NullTranslations:
    """The merged catalogue of ``lang``; English is the texts themselves."""
    if lang == "en":
        return NullTranslations()
    folder = files("projections.console").joinpath("locale", lang, "LC_MESSAGES")
    merged: Translations | None = None
    for po in sorted((p for p in folder.iterdir() if p.name.endswith(".po")),
                     key=lambda p: p.name):
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        part = Translations(buffer)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    if merged is None:
        raise RuntimeError(f"no catalogue for {lang!r} in {folder}")
    return merged
