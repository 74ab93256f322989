"""Language facts of one edition, in one place.

Everything the build needs to set a language the way its readers expect —
direction, script, fonts, quotes, list separator, digits, line breaking,
hyphenation — comes from one ``Language`` value, found from the BCP 47 tag
and CLDR (through Babel). The stylesheet's ``:lang()`` rules and the font
check are generated from the same table, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from booklet.core import BookletError

# Font stacks per ISO 15924 script, with the families Debian's Noto packages
# install (fonts-noto-core, fonts-noto-cjk). Latin is the fallback for the
# Latin words (names, units) that every edition has.
SCRIPT_FONTS: dict[str, tuple[str, ...]] = {
    "Arab": ("Noto Sans Arabic", "Noto Sans"),
    "Hebr": ("Noto Sans Hebrew", "Noto Sans"),
    "Deva": ("Noto Sans Devanagari", "Noto Sans"),
    "Beng": ("Noto Sans Bengali", "Noto Sans"),
    "Thai": ("Noto Sans Thai", "Noto Sans"),
    "Thaa": ("Noto Sans Thaana", "Noto Sans"),
    "Hans": ("Noto Sans CJK SC", "Noto Sans"),
    "Hant": ("Noto Sans CJK TC", "Noto Sans"),
    "Jpan": ("Noto Sans CJK JP", "Noto Sans"),
    "Kore": ("Noto Sans CJK KR", "Noto Sans"),
}
# A language whose readers expect another style of its script: Urdu is
# written in Nastaliq, not in the Naskh of Arabic.
LANGUAGE_FONTS: dict[str, tuple[str, ...]] = {
    "ur": ("Noto Nastaliq Urdu", "Noto Sans Arabic", "Noto Sans"),
}
# The page's default (html without a more specific :lang() rule).
DEFAULT_FONTS = ("Noto Sans", "Noto Sans Arabic", "Noto Sans CJK SC")

# Digits of the CLDR numbering systems, and the CSS counter style (predefined in
# CSS Counter Styles, which WeasyPrint implements) that writes page numbers in them.
DIGITS: dict[str, tuple[str, str]] = {
    "latn": ("0123456789", "decimal"),
    "arab": ("٠١٢٣٤٥٦٧٨٩", "arabic-indic"),
    "arabext": ("۰۱۲۳۴۵۶۷۸۹", "persian"),
    "deva": ("०१२३४५६७८९", "devanagari"),
    "beng": ("০১২৩৪৫৬৭৮৯", "bengali"),
    "thai": ("๐๑๒๓๔๕๖๗๘๙", "thai"),
}
# Scripts written without spaces between words, where lines may break between
# any two characters, and the strict CJK line-breaking rules apply.
CJK_SCRIPTS = {"Hans", "Hant", "Jpan"}
# Quote marks per language where CLDR's default (“ ”) is not what is printed.
QUOTES: dict[str, tuple[str, str]] = {
    "es": ("«", "»"), "fr": ("«\u202f", "\u202f»"), "de": ("„", "“"), "ja": ("「", "」"),
    "ar": ("«", "»"), "fa": ("«", "»"), "ru": ("«", "»"), "he": ("„", "”"),
    "pt": ("“", "”"), "ko": ("“", "”"),
}
# Secondary (inner) quote marks, where they are not ‘ ’.
SECONDARY_QUOTES: dict[str, tuple[str, str]] = {
    "es": ("“", "”"), "fr": ("“", "”"), "de": ("‚", "‘"), "ja": ("『", "』"),
    "ar": ("“", "”"), "fa": ("“", "”"), "ru": ("„", "“"), "he": ("‚", "’"),
}
APOSTROPHE = "\u2019"
SCRIPT_COMMAS = {"Arab": "\u060c ", "Hans": "\u3001", "Hant": "\u3001", "Jpan": "\u3001"}


@dataclass(frozen=True)
class Language:
    """How one edition's language is set."""

    tag: str  # BCP 47, as in booklet.toml: "pt-BR", "zh-Hans"
    locale: str  # the Babel / gettext name: "pt_BR", "zh_Hans"
    direction: str  # "ltr" or "rtl", from CLDR
    script: str  # ISO 15924: "Latn", "Arab", "Hans"
    fonts: tuple[str, ...]  # CSS font-family stack, most specific first
    quotes: tuple[str, str]  # primary opening and closing quote marks
    secondary_quotes: tuple[str, str]  # quotes inside quotes
    apostrophe: str
    list_separator: str  # between items of a list ("، " in Arabic, "、" in Chinese)
    numbering: str  # CLDR numbering system of page numbers and dates: "latn", "arabext"
    word_break: str  # CSS word-break: "keep-all" for Korean (breaks at spaces)
    line_break: str  # CSS line-break: "strict" for Chinese and Japanese
    hyphenate: bool  # WeasyPrint has a hyphenation dictionary (pyphen) for it

    @property
    def smarty_quotes(self) -> dict[str, str]:
        """Python-Markdown smarty's substitutions: the primary quotes for "x".

        Smarty's right single quote is also every apostrophe it sees ("body's",
        "qu'elle"), so it is always the apostrophe, never a secondary closing
        quote ("body›s"); the opening single quote is the language's secondary
        one only where that pairs with the apostrophe, else ‘.
        """
        opening = self.secondary_quotes[0] if self.secondary_quotes[1] == self.apostrophe \
            else "\u2018"
        return {"left-single-quote": opening, "right-single-quote": self.apostrophe,
                "left-double-quote": self.quotes[0], "right-double-quote": self.quotes[1]}

    @property
    def rtl(self) -> bool:
        return self.direction == "rtl"

    @property
    def digits(self) -> str:
        return DIGITS[self.numbering][0]

    @property
    def counter_style(self) -> str:
        """The CSS counter style for page numbers in this numbering system."""
        return DIGITS[self.numbering][1]

    def number(self, text: str) -> str:
        """Write the ASCII digits of text in the language's numbering system."""
        if self.numbering == "latn":
            return text
        return text.translate(str.maketrans("0123456789", self.digits))


def locale_name(tag: str) -> str:
    """Map a BCP 47 tag (pt-BR, zh-Hans) to the name Babel and gettext use (pt_BR)."""
    from babel import Locale, UnknownLocaleError

    for candidate in (tag.replace("-", "_"), primary(tag)):
        try:
            Locale.parse(candidate)
            return candidate
        except (ValueError, UnknownLocaleError):
            continue
    raise BookletError(f"language {tag!r}: Babel knows no locale for it, so its plural "
                       "rules and dates are unknown; use a tag like \"es\", \"pt-BR\", "
                       "\"zh-Hans\" or \"ar\"")


def primary(tag: str) -> str:
    """The primary language subtag: "pt" of "pt-BR"."""
    return tag.split("-")[0]


def _script(tag: str, name: str) -> str:
    from babel import Locale
    from babel.core import get_global, parse_locale

    parts = tag.split("-")
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            return part.title()
    locale = Locale.parse(name)
    if locale.script:
        return locale.script
    likely = get_global("likely_subtags")
    for key in (name, primary(tag)):
        if key in likely:
            script = parse_locale(likely[key])[2]
            if script:
                return script
    return "Latn"


@cache
def _hyphenate(tag: str) -> bool:
    try:
        import pyphen
    except ImportError:  # pragma: no cover (a WeasyPrint dependency)
        return False
    return bool(pyphen.language_fallback(tag.replace("-", "_")))


@cache
def language(tag: str, numbering: str | None = None) -> Language:
    """The Language of a tag; ``numbering`` overrides CLDR's default digits (ar: arab)."""
    from babel import Locale

    name = locale_name(tag)
    locale = Locale.parse(name)
    script, fonts = script_and_fonts(tag)
    system = numbering or locale.default_numbering_system or "latn"
    if system not in DIGITS:
        if numbering:
            raise BookletError(f"numbering {numbering!r} for {tag}: unknown; use one of "
                               f"{', '.join(sorted(DIGITS))}")
        system = "latn"
    middle = locale.list_patterns.get("standard", {}).get("middle", "{0}, {1}")
    separator = middle.replace("{0}", "").replace("{1}", "").replace("\u200f", "") or ", "
    if any(ch.isalpha() for ch in separator):  # "{0} و{1}": a word, not a comma
        separator = SCRIPT_COMMAS.get(script, ", ")
    return Language(
        tag=tag, locale=name, direction=locale.text_direction, script=script, fonts=fonts,
        quotes=QUOTES.get(tag) or QUOTES.get(primary(tag)) or ("“", "”"),
        secondary_quotes=SECONDARY_QUOTES.get(tag) or SECONDARY_QUOTES.get(primary(tag))
        or ("‘", "’"),
        apostrophe=APOSTROPHE, list_separator=separator, numbering=system,
        word_break="keep-all" if script == "Kore" else "normal",
        line_break="strict" if script in CJK_SCRIPTS else "auto",
        hyphenate=_hyphenate(tag) and script not in CJK_SCRIPTS | {"Kore"},
    )


@cache
def script_and_fonts(tag: str) -> tuple[str, tuple[str, ...]]:
    """The script and font stack of a tag, without loading its CLDR locale data.

    The stylesheet and the font check need these for every known tag; the
    rest of a Language (direction, digits, list patterns, hyphenation) costs
    a locale load each and is needed for the edition's own language only.
    """
    script = _script(tag, locale_name(tag))
    fonts = LANGUAGE_FONTS.get(primary(tag)) or SCRIPT_FONTS.get(script) or DEFAULT_FONTS
    return script, fonts


# Languages the stylesheet sets fonts for even when a project does not list
# them: the names on the back cover and fallback spans carry their own lang.
KNOWN_TAGS = ("en", "es", "pt", "fr", "de", "ru", "zh", "zh-Hant", "ja", "ko", "ar", "fa",
              "ur", "ps", "he", "yi", "hi", "mr", "ne", "bn", "th")


@cache
def font_stacks(tags: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """Font stack per language tag ("" is the page default): the font check's table."""
    stacks: dict[str, tuple[str, ...]] = {"": DEFAULT_FONTS}
    for tag in (*KNOWN_TAGS, *tags):
        try:
            stacks[tag] = script_and_fonts(tag)[1]
        except BookletError:
            continue
    return stacks


def _selector(tag: str) -> str:
    return f":lang({tag})"


def language_css(tags: tuple[str, ...] = (), edition: Language | None = None,
                 source: str = "en") -> str:
    """The stylesheet's per-language rules: fonts, line breaking, digits, spacing,
    hyphenation.

    Written once per edition from the same ``Language`` values the font check
    reads, so what the check passes is what the page uses. With the
    ``edition``'s Language, the contents page and numbered lists count in its
    digits (page numbers in the margins are set by the page template). Body
    text (p, li, dd) is hyphenated in each language pyphen has a dictionary
    for, except the ``source`` language, which keeps whole words; headings,
    tables and drug names never are (the theme's stylesheet says so).
    """
    rules = []
    for tag in dict.fromkeys((*KNOWN_TAGS, *tags)):
        try:
            script, fonts = script_and_fonts(tag)
        except BookletError:
            continue
        declarations = []
        # Every language names its stack, Latin ones too (the page's default): an
        # English segment inside an Urdu page must not take its digits and full
        # stops from Nastaliq, whose stack it would inherit.
        declarations.append(f"font-family: {', '.join(repr_font(f) for f in fonts)}"
                            ", sans-serif")
        # WeasyPrint 70 knows neither line-break nor word-break: keep-all and logs
        # each as an ignored rule, which the build reports (issue 8); they stay in
        # Language for an engine that supports them.
        if primary(tag) == "ur":
            declarations.append("line-height: 2.1")  # Nastaliq's tall descending joins
        elif script == "Arab":
            declarations.append("line-height: 1.75")
        elif script in {"Deva", "Beng", "Thai", "Thaa", "Kore"} | CJK_SCRIPTS:
            declarations.append("line-height: 1.7")  # tall marks or dense glyphs
        if declarations:
            rules.append(f"{_selector(tag)} {{ {'; '.join(declarations)}; }}")
        # As Language.hyphenate, without loading the tag's locale.
        if _hyphenate(tag) and script not in CJK_SCRIPTS | {"Kore"} \
                and primary(tag) != primary(source):
            rules.append(f"{_selector(tag)} :is(p, li, dd) {{ hyphens: auto; "
                         "hyphenate-limit-chars: 10 4 4; }")
    rules.append(".keep-all { white-space: nowrap; }")  # words of keep-all scripts
    if edition is not None and edition.numbering != "latn":
        page = f'html:lang({edition.tag})'
        rules.append(f"{page} .contents a::after {{ content: leader(\".\") "
                     f"target-counter(attr(href), page, {edition.counter_style}); }}")
        rules.append(f"{page} ol {{ list-style-type: {edition.counter_style}; }}")
    return "\n".join(rules) + "\n"


def repr_font(family: str) -> str:
    return f'"{family}"'


# ---------------------------------------------------------------------------
# Collation: sorting words the way a language's dictionaries do
# ---------------------------------------------------------------------------


def _icu_functions(library_name: str, names: tuple[str, ...]) -> list | None:
    """Functions of an ICU C library through ctypes (libicu, which Debian installs
    with libxml2), or None when it cannot be loaded. Symbols carry the ICU
    version (ucol_open_72), so each name is tried with every suffix."""
    import ctypes
    import ctypes.util

    for name in (ctypes.util.find_library(library_name), f"lib{library_name}.so"):
        if not name:
            continue
        try:
            library = ctypes.CDLL(name)
        except OSError:
            continue
        for suffix in ("", *(f"_{version}" for version in range(99, 49, -1))):
            try:
                return [getattr(library, f"{n}{suffix}") for n in names]
            except AttributeError:
                continue
    return None


@cache
def _icu():
    """ICU's collator (libicui18n), or None without it."""
    import ctypes

    functions = _icu_functions("icui18n", ("ucol_open", "ucol_getSortKey"))
    if functions is None:
        return None
    opener, sort_key = functions
    opener.restype = ctypes.c_void_p
    opener.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    sort_key.restype = ctypes.c_int32
    sort_key.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32,
                         ctypes.c_char_p, ctypes.c_int32]
    return opener, sort_key


@cache
def collation_key(tag: str):
    """A sort key function for words of a language: ICU's collator for its locale
    (Spanish ñ after n, Chinese in pinyin order), or, without ICU, accents and
    case set aside (good for Latin scripts, code point order for the rest)."""
    import ctypes
    import unicodedata

    icu = _icu()
    if icu is not None:
        opener, sort_key = icu
        status = ctypes.c_int(0)
        collator = opener(locale_name(tag).encode(), ctypes.byref(status))
        if collator and status.value <= 0:
            def icu_key(text: str) -> bytes:
                data = text.encode("utf-16-le")
                length = len(data) // 2
                size = sort_key(collator, data, length, None, 0)
                buffer = ctypes.create_string_buffer(size)
                sort_key(collator, data, length, buffer, size)
                return buffer.raw[:size]

            return icu_key

    def plain_key(text: str) -> bytes:
        folded = "".join(ch for ch in unicodedata.normalize("NFD", text.casefold())
                         if not unicodedata.combining(ch))
        return (folded + "\0" + text).encode("utf-8")

    return plain_key


# ---------------------------------------------------------------------------
# Word boundaries: where a line may break in a script written without spaces
# ---------------------------------------------------------------------------


@cache
def _icu_words():
    """ICU's word break iterator (libicuuc), or None without it."""
    import ctypes

    functions = _icu_functions("icuuc", ("ubrk_open", "ubrk_first", "ubrk_next", "ubrk_close"))
    if functions is None:
        return None
    opener, first, following, close = functions
    opener.restype = ctypes.c_void_p
    opener.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
                       ctypes.c_int32, ctypes.POINTER(ctypes.c_int)]
    for function in (first, following):
        function.restype = ctypes.c_int32
        function.argtypes = [ctypes.c_void_p]
    close.restype = None
    close.argtypes = [ctypes.c_void_p]
    return opener, first, following, close


def words(text: str, tag: str) -> list[str]:
    """Split text into words and the spaces and marks between them, as ICU's
    dictionary does for Chinese and Japanese ("无进展生存率" -> "无进展", "生存率");
    the text whole, as one word, when ICU is not installed."""
    import ctypes

    icu = _icu_words()
    if icu is None or not text:
        return [text] if text else []
    opener, first, following, close = icu
    data = text.encode("utf-16-le")
    status = ctypes.c_int(0)
    iterator = opener(1, locale_name(tag).encode(), data, len(data) // 2,
                      ctypes.byref(status))  # 1: UBRK_WORD
    if not iterator or status.value > 0:
        return [text]
    try:
        bounds = [first(iterator)]
        while (bound := following(iterator)) != -1:  # UBRK_DONE
            bounds.append(bound)
    finally:
        close(iterator)
    # Bounds count UTF-16 code units: slice the encoded text, not the str.
    return [data[2 * a:2 * b].decode("utf-16-le") for a, b in zip(bounds, bounds[1:], strict=False)]


OPENING = "（(「『【〔《〈“‘"


def _wide(ch: str) -> bool:
    import unicodedata

    return unicodedata.east_asian_width(ch) in "WF"


def unbreakable_words(text: str, tag: str) -> list[str]:
    """Words a line must not break inside, for a column head in Chinese or Japanese.

    ICU's dictionary splits finer than a reader does ("生存" + "率"): a word of
    one character joins the word before it (the first one joins the next),
    opening brackets join the next word and other punctuation the one before,
    and a run of Latin letters and digits stays whole: "无进展生存率" gives
    "无进展", "生存率"; "严重（0-10）" gives "严重", "（0-10）".
    """
    merged: list[str] = []
    glue_next = False
    for word in words(text, tag):
        opening = word[-1] in OPENING
        joins = bool(merged) and (glue_next or (not opening and (
            len(word) == 1 or not word.strip()
            or (not _wide(word[0]) and not _wide(merged[-1][-1])))))
        if joins:
            merged[-1] += word
        else:
            merged.append(word)
        glue_next = opening or (len(merged) == 1 and len(merged[0]) == 1)
    return merged
