"""Quantities and structure of a translation, checked against the English.

A translation may reword everything except what a family acts on: each number
with its kind (a percent, a duration in days, weeks, months or years, a dose
in mg, ml or tablets, a temperature, a bare count) and the comparison in
front of it (<, >, ≤, ≥). The words for units come from CLDR through Babel's
unit patterns for each language, so "5 años" is five years and "5 semanas"
five weeks; only tablet words, which CLDR lacks, are listed here.

A translation also may not change structure: attribute lists, classes, link
targets and autolinks, and the kind of block (heading level, list, box).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

# CLDR units a handout's numbers are measured in, by the kind the check compares.
CLDR_UNITS = {
    "duration-year": "year", "duration-month": "month", "duration-week": "week",
    "duration-day": "day", "duration-hour": "hour", "duration-minute": "minute",
    "mass-milligram": "mg", "mass-microgram": "µg", "mass-gram": "g", "mass-kilogram": "kg",
    "volume-milliliter": "ml", "volume-liter": "l",
    "temperature-celsius": "°C", "temperature-fahrenheit": "°F",
    "concentr-percent": "percent",
}
# CLDR has no unit for a tablet; these are the words known per language. Where a
# language is not listed, a tablet count is compared as a bare count.
TABLET_WORDS = {
    "en": ("tablets", "tablet", "pills", "pill", "capsules", "capsule"),
    "es": ("tabletas", "tableta", "pastillas", "pastilla", "comprimidos", "comprimido",
           "cápsulas", "cápsula"),
    "pt": ("comprimidos", "comprimido", "cápsulas", "cápsula", "pílulas", "pílula"),
    "fr": ("comprimés", "comprimé", "gélules", "gélule", "cachets", "cachet"),
    "de": ("Tabletten", "Tablette", "Kapseln", "Kapsel"),
    "zh": ("片", "粒"),
    "ar": ("أقراص", "قرص", "حبات", "حبة", "كبسولات", "كبسولة"),
}
PERCENT_SIGNS = ("%", "\u066a", "\uff05")  # %, Arabic ٪, full-width ％
COMPARISONS = {"<": "<", ">": ">", "≤": "≤", "≥": "≥", "<=": "≤", ">=": "≥",
               "&lt;": "<", "&gt;": ">"}
NUMBER = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)|\d+(?:[.,\u066b\u066c'\u2019]\d+)*")
SEPARATOR = re.compile(r"[.,\u066b\u066c'\u2019 \u00a0\u202f]")
# Markup whose digits are not the reader's: link targets, footnote labels, HTML tags
# (a tag starts with a letter, so "<5% ... >20%" is text, not a tag), {placeholders}.
MARKUP = re.compile(r"\]\([^)]*\)|\[\^[^\]]*\]|\]\[[^\]]*\]"
                    r"|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"
                    r"|<[A-Za-z][\w+.-]*:[^<>\s]*>|\{[^{}]*\}")
GAP = "[\\s\u00a0\u202f\u200e\u200f-]*"


@dataclass(frozen=True)
class Quantity:
    """A number as the reader meets it: its value(s), kind and comparison sign."""

    values: frozenset[str]  # both readings of an ambiguous "1,000"
    kind: str  # "count", "percent", "year", "mg", "tablet", ...
    comparison: str  # "", "<", ">", "≤", "≥"
    text: str

    def describe(self) -> str:
        return repr(self.text)


def _ascii_digits(text: str) -> str:
    """Map every decimal digit (Arabic-Indic, Persian, Devanagari, full-width) to 0-9."""
    return "".join(str(unicodedata.digit(ch)) if not ch.isascii() and
                   unicodedata.category(ch) == "Nd" else ch for ch in text)


def _readings(token: str) -> frozenset[str]:
    """The numeric values a token can mean ("1.000": one thousand, or one)."""
    values: set[str] = set()
    groups = SEPARATOR.split(token)
    separators = SEPARATOR.findall(token)
    if len(groups) == 1:
        return frozenset({str(int(groups[0]))})
    if all(len(g) == 3 for g in groups[1:]) and len(set(separators)) == 1:
        values.add(str(int("".join(groups))))
        if len(groups) > 2 or separators[0] not in ".,\u066b":
            return frozenset(values)
    decimal = groups[-1].rstrip("0")
    whole = str(int("".join(groups[:-1])))
    values.add(f"{whole}.{decimal}" if decimal else whole)
    return frozenset(values)


def _base(language: str) -> str:
    return language.replace("_", "-").split("-")[0]


@functools.cache
def unit_words(language: str) -> tuple[tuple[str, str, str], ...]:
    """(word, kind, 'after' or 'before') for the language, longest first, from CLDR."""
    from babel import Locale, UnknownLocaleError

    try:
        from booklet.i18n import babel_locale_name

        locale = Locale.parse(babel_locale_name(language))
    except (UnknownLocaleError, ValueError, Exception):  # noqa: BLE001
        try:
            locale = Locale.parse(_base(language))
        except (UnknownLocaleError, ValueError):
            locale = Locale.parse("en")
    words: set[tuple[str, str, str]] = set()
    patterns = locale._data.get("unit_patterns", {})  # noqa: SLF001 (Babel's CLDR data)
    for unit, kind in CLDR_UNITS.items():
        lengths = patterns.get(unit) or {}
        for length in ("long", "short"):
            forms = lengths.get(length) if length in lengths else None
            for form, pattern in (dict(forms).items() if forms else ()):
                if form == "per" or "{0}" not in pattern:
                    continue
                before, after = pattern.split("{0}", 1)
                for word, side in ((after.strip(), "after"), (before.strip(), "before")):
                    word = word.strip("\u200e\u200f\u00a0 ")
                    if not word:
                        continue
                    latin = word.isascii() or all(unicodedata.category(c)[0] == "L"
                                                  and ord(c) < 0x250 for c in word)
                    # "a" (año) or "m" would match ordinary words; mg and ml are units.
                    if latin and len(word) < (2 if kind in ("mg", "ml", "g", "kg", "l",
                                                            "µg", "°C", "°F") else 3):
                        continue
                    words.add((word, kind, side))
    for word in TABLET_WORDS.get(_base(language), ()):
        words.add((word, "tablet", "after"))
    symbol = locale.number_symbols.get("latn", {}).get("percentSign", "%") \
        if hasattr(locale, "number_symbols") else "%"
    for sign in {*PERCENT_SIGNS, symbol.strip("\u200e\u200f")}:
        words.add((sign, "percent", "after"))
        words.add((sign, "percent", "before"))
    return tuple(sorted(words, key=lambda w: (-len(w[0]), w)))


def _is_word_char(ch: str) -> bool:
    """A letter that would continue a word, in scripts that separate words with spaces.

    Korean, Chinese or Japanese attach particles to a unit ("7일마다"): no boundary there.
    """
    return ch.isalpha() and ord(ch) < 0x0590


def quantities(text: str, language: str) -> list[Quantity]:
    """Every number in the reader's text with its kind and comparison, in order."""
    plain = _ascii_digits(MARKUP.sub(" ", text))
    words = unit_words(language)
    has_tablets = _base(language) in TABLET_WORDS
    found = []
    for match in NUMBER.finditer(plain):
        token = match.group(0)
        if match.start() and plain[match.start() - 1].isascii() and \
                plain[match.start() - 1].isalpha():
            continue  # an identifier such as CD56, not a quantity
        after = re.match(GAP, plain[match.end():]).end() + match.end()
        rest = plain[after:]
        head = plain[:match.start()].rstrip(" \u00a0\u202f\u200e\u200f")
        kind, start, end = "count", match.start(), match.end()
        for word, word_kind, side in words:
            if side == "after" and rest[:len(word)].lower() == word.lower():
                following = rest[len(word):len(word) + 1]
                if word[-1].isalpha() and following and _is_word_char(following):
                    continue
                kind, end = word_kind, after + len(word)
                break
            if side == "before" and head.lower().endswith(word.lower()):
                previous = head[-len(word) - 1:-len(word)]
                if word[0].isalpha() and previous and _is_word_char(previous):
                    continue
                kind, start = word_kind, len(head) - len(word)
                break
        if kind == "tablet" and not has_tablets:
            kind = "count"
        comparison = ""
        for sign, name in sorted(COMPARISONS.items(), key=lambda s: -len(s[0])):
            if head.endswith(sign):
                comparison, start = name, min(start, len(head) - len(sign))
                break
        found.append(Quantity(_readings(token), kind, comparison, plain[start:end].strip()))
    return found


def _comparable(quantity: Quantity, tablets: bool | None) -> str:
    """Tablets count as a bare count when one of the two languages has no tablet words.

    ``None``: the translation's language is not known, so only values count.
    """
    if tablets is None:
        return "count"
    return quantity.kind if tablets or quantity.kind != "tablet" else "count"


# A translator comment that lets a bare count be written as a word in one entry
# (Arabic's dual "خطوتين" is "2 steps"): "# booklet: number-as-word 2".
NUMBER_AS_WORD = re.compile(r"^\s*booklet:\s*number-as-word\b(.*)$")


def numbers_as_words(comments) -> tuple[str, ...]:
    """The values an entry's translator comments allow to be written as words."""
    values: list[str] = []
    for comment in comments or ():
        match = NUMBER_AS_WORD.match(comment)
        if match:
            values += [str(min(_readings(token), key=float))
                       for token in NUMBER.findall(_ascii_digits(match.group(1)))]
    return tuple(values)


def quantity_problems(source: str, translation: str, language: str,
                      source_language: str = "en",
                      as_words: tuple[str, ...] = ()) -> list[str]:
    """How a translation changes the English quantities: each is an error.

    Without a ``language`` the units of the translation cannot be read, so only
    values and comparison signs are compared. ``as_words`` are bare counts the
    entry's translator comment says are written as a word (a dual form); a
    percent, dose or time is never excused, and an exception for a number the
    English does not have is an error too, so none outlives its text.
    """
    english = quantities(source, source_language)
    translated = quantities(translation, language or source_language)
    tablets = (_base(language) in TABLET_WORDS and _base(source_language) in TABLET_WORDS) \
        if language else None
    remaining = list(translated)
    unmatched = []
    for quantity in english:
        kind = _comparable(quantity, tablets)
        match = next((t for t in remaining if t.values & quantity.values
                      and _comparable(t, tablets) == kind
                      and t.comparison == quantity.comparison), None)
        if match is None:
            unmatched.append(quantity)
        else:
            remaining.remove(match)
    problems: list[str] = []
    missing: list[Quantity] = []
    for quantity in unmatched:
        kind = _comparable(quantity, tablets)
        same_value = [t for t in remaining if t.values & quantity.values]
        if same_value:
            other = same_value[0]
            remaining.remove(other)
            if _comparable(other, tablets) != kind:
                problems.append(f"quantity {quantity.describe()} ({_kind_name(kind)}) became "
                                f"{other.describe()} ({_kind_name(other.kind)}): the number "
                                "must keep its unit (a dose, a percent or a time must not change)")
            else:
                problems.append(f"comparison changed: {quantity.describe()} "
                                f"({quantity.comparison or 'no sign'}) became "
                                f"{other.describe()} ({other.comparison or 'no sign'})")
        else:
            missing.append(quantity)
    from booklet.i18n import source_name

    named = source_name(source_language)
    excused = list(as_words)
    for value in dict.fromkeys(as_words):
        if not any(value in q.values and _comparable(q, tablets) == "count" and not q.comparison
                   for q in english):
            problems.append(f"'booklet: number-as-word {value}' but the {named} has no bare "
                            f"number {value}; remove that translator comment")
    for quantity in list(missing):
        value = next((v for v in excused if v in quantity.values), None)
        if value is not None and _comparable(quantity, tablets) == "count" \
                and not quantity.comparison:
            missing.remove(quantity)
            excused.remove(value)
    added = [q for q in remaining if not any(
        e.values & q.values and _comparable(e, tablets) == _comparable(q, tablets)
        and e.comparison == q.comparison for e in english)]  # not the same said twice
    for found, what in ((missing, f"of the {named} missing"), (added, f"not in the {named}")):
        values = sorted({min(q.values) for q in found}, key=float)
        if values:
            problems.append(f"number{'s' if len(values) > 1 else ''} {', '.join(values)} "
                            f"{what} (a dose, a percent or a count must not change)")
    return problems


def _kind_name(kind: str) -> str:
    return {"count": "a bare number", "percent": "a percent"}.get(kind, kind)


def reordered(source: str, translation: str, language: str,
              source_language: str = "en") -> bool:
    """True when the bare numbers stand in another order than in the English.

    Legitimate in many languages ("3 times a day, 2 tablets"), so not an
    error, but a reviewer reads these entries: they are where a swap hides.
    """
    english = [q for q in quantities(source, source_language) if q.kind == "count"]
    translated = [q for q in quantities(translation, language) if q.kind == "count"]
    if len(english) < 2 or len(english) != len(translated):
        return False
    in_order = all(a.values & b.values for a, b in zip(english, translated, strict=True))
    return not in_order


def reordered_entries(path: Path, source_language: str = "en") -> list[str]:
    """'PO file:line: ...' for every translated entry a reviewer must read closely.

    Bare numbers in another order than the English, numbers written as words
    (by a translator comment), and digits of a script the language does not use.
    """
    from booklet.i18n import source_name

    if not path.is_file():
        return []
    from babel.messages.pofile import read_po

    language = path.parent.parent.name
    with path.open("rb") as handle:
        catalog = read_po(handle)
    entries = []
    for message in catalog:
        if not message.id or not message.string or isinstance(message.id, tuple) \
                or "fuzzy" in message.flags:
            continue
        short = " ".join(message.string.split())
        short = short if len(short) <= 60 else short[:57] + "..."
        for value in dict.fromkeys(numbers_as_words(message.user_comments)):
            entries.append(f"{path}:{message.lineno}: number {value} written as a word "
                           f"(# booklet: number-as-word {value}); read it: {short!r}")
        if reordered(message.id, message.string, language, source_language):
            entries.append(f"{path}:{message.lineno}: numbers in another order than the "
                           f"{source_name(source_language)}; read it: {short!r}")
        foreign = foreign_digits(message.string, language)
        if foreign:
            entries.append(f"{path}:{message.lineno}: warning: digits of a script {language} "
                           f"does not use: {', '.join(foreign)}; read it: {short!r}")
    return entries


# Unicode digit names → CLDR numbering system ids (Babel's Locale.other_numbering_systems).
DIGIT_SYSTEMS = {"DIGIT": "latn", "ARABIC-INDIC DIGIT": "arab",
                 "EXTENDED ARABIC-INDIC DIGIT": "arabext", "DEVANAGARI DIGIT": "deva",
                 "BENGALI DIGIT": "beng", "THAI DIGIT": "thai", "FULLWIDTH DIGIT": "fullwide",
                 "MYANMAR DIGIT": "mymr", "TAMIL DIGIT": "tamldec", "GUJARATI DIGIT": "gujr"}


def foreign_digits(text: str, language: str) -> list[str]:
    """Digits of a numbering system the language does not use (Babel): for the reviewer.

    They still count as their values, but ٣ in a Hindi handout is likely a
    copy-and-paste slip that a reader may not read.
    """
    from babel import Locale

    try:
        from booklet.i18n import babel_locale_name

        locale = Locale.parse(babel_locale_name(language))
    except Exception:  # noqa: BLE001 (an unknown language: nothing to compare with)
        return []
    allowed = {"latn", locale.default_numbering_system,
               *dict(locale.other_numbering_systems).values()}
    found = []
    for ch in dict.fromkeys(text):
        if unicodedata.category(ch) != "Nd":
            continue
        name = unicodedata.name(ch, "").rsplit(" ", 1)[0]
        system = DIGIT_SYSTEMS.get(name, name.lower())
        if system not in allowed:
            found.append(f"{ch} ({name.title()})")
    return found


# ---------------------------------------------------------------------------
# Structure: a translation changes words, never attributes, links or blocks
# ---------------------------------------------------------------------------

ATTRIBUTE_LIST = re.compile(r"\{:?\s*(?:[.#][\w-]+|[\w-]+=\S+)(?:\s+(?:[.#][\w-]+|[\w-]+=\S+))*"
                            r"\s*\}")
AUTOLINK = re.compile(r"<((?:https?|mailto|tel|ftp|file|javascript|data):[^<>\s]*)>|"
                      r"<([^<>\s@]+@[^<>\s@]+)>")
CLASS_ATTRIBUTE = re.compile(r"""\bclass\s*=\s*["']([^"']*)["']""")
BLOCK_START = re.compile(r"^\s{0,3}(#{1,6}(?=\s)|[-*+](?=\s)|\d+[.)](?=\s)|>|!!!\s*\w+|\?\?\?"
                         r"\s*\w+|:(?=\s{3})|\|)")


def _normalized(items: list[str]) -> list[str]:
    return sorted(" ".join(item.split()) for item in items)


def structure_problems(source: str, translation: str) -> list[str]:
    """What a translation changes of the English structure: each is an error."""
    problems = []
    # Link targets: booklet.i18n.parity_problems compares them already.
    for pattern, what in ((ATTRIBUTE_LIST, "attribute list"), (CLASS_ATTRIBUTE, "class")):
        want = _normalized(pattern.findall(source))
        have = _normalized(pattern.findall(translation))
        if want != have:
            added = [x for x in have if x not in want]
            missing = [x for x in want if x not in have]
            detail = "; ".join(filter(None, (
                f"not in the English: {', '.join(map(repr, added))}" if added else "",
                f"missing: {', '.join(map(repr, missing))}" if missing else "")))
            problems.append(f"{what}s differ from the English ({detail or 'count'})")
    want = sorted("".join(m) for m in AUTOLINK.findall(source))
    have = sorted("".join(m) for m in AUTOLINK.findall(translation))
    if want != have:
        problems.append(f"autolinks differ from the English: {have} instead of {want}")
    want_blocks = [m.group(1) for line in source.split("\n") if (m := BLOCK_START.match(line))]
    have_blocks = [m.group(1) for line in translation.split("\n")
                   if (m := BLOCK_START.match(line))]
    kinds = [_block_kind(b) for b in want_blocks], [_block_kind(b) for b in have_blocks]
    if kinds[0] != kinds[1]:
        problems.append(f"block kinds differ from the English: {kinds[1] or 'paragraph'} "
                        f"instead of {kinds[0] or 'paragraph'} (heading level, list or box)")
    return problems


def _block_kind(marker: str) -> str:
    if marker.startswith("#"):
        return f"heading {len(marker)}"
    if marker[0] in "-*+":
        return "list item"
    if marker[0].isdigit():
        return "numbered item"
    if marker.startswith(("!!!", "???")):
        return "box " + marker.lstrip("!? ")
    return {">": "quote", ":": "definition", "|": "table row"}.get(marker, marker)


def translation_problems(source: str, translation: str, language: str,
                         source_language: str = "en",
                         as_words: tuple[str, ...] = ()) -> list[str]:
    """Quantity and structure problems of one translated message."""
    return quantity_problems(source, translation, language, source_language, as_words) + \
        structure_problems(source, translation)
