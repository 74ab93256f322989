"""The desk's own strings in the staff member's language: gettext catalogs read with Babel.

Catalogs live beside this module (``locales/LANG/LC_MESSAGES/desk.po``) and are
compiled in memory at start-up, so the wheel ships plain PO files and nothing
needs ``msgfmt``.
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "desk"
DEFAULT = "en"


def load_translations() -> dict[str, gettext.NullTranslations]:
    """Every catalog of the desk, by language; English is the strings themselves."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    found: dict[str, gettext.NullTranslations] = {DEFAULT: gettext.NullTranslations()}
    for po in sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        language = po.parent.parent.name
        with po.open("rb") as f:
            catalog = read_po(f, locale=language.replace("-", "_"), domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        found[language] = gettext.GNUTranslations(buffer)
    return found


def language_name(code: str, in_language: str) -> str:
    """A language's name in in_language (Babel's CLDR data), or the code itself."""
    from babel import Locale, UnknownLocaleError

    from booklet.core import BookletError
    from booklet.i18n import babel_locale_name

    try:
        name = Locale.parse(babel_locale_name(code)).get_display_name(
            babel_locale_name(in_language))
    except (ValueError, UnknownLocaleError, BookletError):
        return code
    return name or code


def format_date(value, language: str) -> str:
    from babel.dates import format_date as babel_format_date

    from booklet.i18n import babel_locale_name

    return babel_format_date(value, format="long", locale=babel_locale_name(language))
