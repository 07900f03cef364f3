"""The console's texts to translate, and what the French catalogue lacks or has in excess.

``python -m projections.console.messages`` lists, for a translator, the texts marked in
the templates and the page modules that ``locale/fr/LC_MESSAGES/*.po`` does not
translate (``missing``) and the ones it translates that nothing uses any more
(``obsolete``); ``--po`` prints the missing ones as ``.po`` entries to paste.  The
console's tests fail on either (tests/test_console_i18n.py).
"""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

__all__ = ["catalogue", "marked", "report"]

Key = str | tuple[str, str]  # a text, or (singular, plural)


def _root() -> Path:
    return Path(str(files("projections.console")))


def marked() -> dict[Key, str]:
    """Every text marked for translation, and the first place that marks it."""
    found: dict[Key, str] = {}
    method_map = [("templates/**.j2", "jinja2"), ("*.py", "python")]
    options = {"templates/**.j2": {"extensions": "jinja2.ext.i18n"}}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            _root(), method_map, options_map=options):
        key: Key = message if isinstance(message, str) else (message[0], message[1])
        found.setdefault(key, f"{filename}:{lineno}")
    return found


def catalogue(lang: str = "fr") -> dict[Key, list[str]]:
    """The translations of ``lang``'s ``.po`` files: text -> [translation(s)]."""
    out: dict[Key, list[str]] = {}
    for po in sorted((_root() / "locale" / lang / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for m in read_po(fh, locale=lang):
                if not m.id:
                    continue
                key: Key = m.id if isinstance(m.id, str) else (m.id[0], m.id[1])
                values = [m.string] if isinstance(m.string, str) else list(m.string or ())
                if key in out:
                    raise ValueError(f"{po.name}: {key!r} is translated twice")
                out[key] = ["" if m.fuzzy else v for v in values]
    return out


def report(lang: str = "fr") -> tuple[list[Key], list[Key]]:
    """(missing, obsolete): marked texts without a translation, translations unused."""
    texts, known = marked(), catalogue(lang)
    missing = [k for k in texts if k not in known or not all(known[k])]
    obsolete = [k for k in known if k not in texts]
    return missing, obsolete


def _po(key: Key) -> str:
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(key, str):
        return f"msgid {q(key)}\nmsgstr \"\"\n"
    return f"msgid {q(key[0])}\nmsgid_plural {q(key[1])}\nmsgstr[0] \"\"\nmsgstr[1] \"\"\n"


def main(argv: list[str]) -> int:
    missing, obsolete = report()
    where = marked()
    if "--po" in argv:
        for key in missing:
            print(f"#: {where[key]}\n{_po(key)}")
        return 1 if missing else 0
    for key in missing:
        print(f"missing  {where[key]}  {key!r}")
    for key in obsolete:
        print(f"obsolete {key!r}")
    return 1 if missing or obsolete else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
