"""One Language value per edition: direction, script, fonts, digits, breaking, quotes.

Editions of a small fixture (the five-script project with Korean, Urdu,
Persian, Hebrew and Arabic added, a few segments translated) are built once
and read back from the PDF: text, font names, digits, viewer preferences.
Nothing here asserts a CLDR value: expectations are asked of Babel.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pikepdf
import pytest
from babel import Locale
from pypdf import PdfReader

from booklet import i18n
from booklet.build import build_edition
from booklet.check import font_stack
from booklet.content import inline_markdown
from booklet.language import DIGITS, KNOWN_TAGS, language, language_css
from booklet.project import load_project
from booklet.render import Edition, is_rtl
from booklet.review import catalog_path

from conftest import PROJECTS

FIVE = PROJECTS / "five-scripts"
LANGUAGES = ("ko", "ur", "fa", "he", "ar", "fr", "hi")
PARAGRAPH = "Change the dressing every 7 days, or sooner if it gets wet."
# Fixture text (not medical content) in each language, the number kept.
TRANSLATIONS = {
    "ko": "상처 덮개는 7일마다 바꾸고, 젖으면 더 일찍 바꾸세요. 손을 깨끗이 씻은 다음에 "
          "새 덮개를 붙이고 날짜를 적어 두세요.",
    "ur": "ہر 7 دن بعد ڈریسنگ بدلیں، یا اگر وہ گیلی ہو جائے تو اس سے پہلے۔",
    "fa": "پانسمان را هر 7 روز عوض کنید، یا زودتر اگر خیس شد.",
    "he": "החליפו את החבישה כל 7 ימים, או מוקדם יותר אם היא נרטבת.",
    "ar": "غيّر الضمادة كل 7 أيام، أو قبل ذلك إذا تبللت.",
    "fr": "Changez le pansement tous les 7 jours, ou plus tôt s'il est mouillé.",
    "hi": "पट्टी हर 7 दिन में बदलें, या अगर वह गीली हो जाए तो पहले बदलें।",
}


def _fonts(pdf: Path) -> set[str]:
    names = set()
    for page in PdfReader(pdf).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return names


@pytest.fixture(scope="module")
def editions(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("scripts") / "project"
    shutil.copytree(FIVE, root)
    config = root / "booklet.toml"
    tags = ", ".join(f'"{tag}"' for tag in ("en", *LANGUAGES, "pt-BR"))
    config.write_text(re.sub(r"^languages = .*$", f"languages = [{tags}]", config.read_text(),
                             flags=re.M) + '\n[numbering]\nar = "arab"\n', encoding="utf-8")
    project = load_project(root)
    i18n.update(project)
    for tag, text in TRANSLATIONS.items():
        path = catalog_path(project, tag)
        catalog = i18n.read_catalog(path, tag)
        catalog.get(PARAGRAPH).string = text
        path.write_bytes(i18n._po_bytes(catalog))
    return {tag: build_edition(root, Edition(tag, "a4"), root / "dist").path
            for tag in LANGUAGES}


def test_direction_comes_from_cldr_not_a_hand_list():
    for tag in ("ar", "fa", "ur", "he", "ckb", "dv", "ps", "ko", "es", "zh-Hans"):
        expected = Locale.parse(language(tag).locale).text_direction
        assert language(tag).direction == expected
        assert is_rtl(tag) == (expected == "rtl")


def test_font_check_and_stylesheet_use_the_same_stacks():
    css = language_css(("pt-BR", "ckb"))
    for tag in (*KNOWN_TAGS, "ckb"):
        stack = font_stack(tag, ("pt-BR", "ckb"))
        rule = re.search(rf"^:lang\({re.escape(tag)}\) {{ font-family: ([^;]*);", css, re.M)
        if rule:
            assert rule.group(1) == ", ".join(f'"{f}"' for f in stack) + ", sans-serif"
        else:  # no rule: the page's default stack, as the check assumes
            assert stack == language("en").fonts
    assert language("ur").fonts[0] == "Noto Nastaliq Urdu"
    # English text inside an Urdu page (a fallback segment) keeps the Latin stack,
    # not the digits and full stops of the Nastaliq it would inherit.
    assert re.search(rf'^:lang\(en\) {{ font-family: "{language("en").fonts[0]}"', css, re.M)
    assert language("ko").word_break == "keep-all"
    # Not written into the CSS: WeasyPrint 70 ignores it and logs an ignored rule,
    # which the build reports as a problem (issue 8).
    assert "word-break" not in re.search(r"^:lang\(ko\).*$", css, re.M).group(0)


def test_numbering_system_is_cldr_default_unless_the_project_chooses():
    for tag in ("fa", "ar", "ur", "es"):
        default = Locale.parse(language(tag).locale).default_numbering_system
        assert language(tag).numbering == (default if default in DIGITS else "latn")
    assert language("ar", "arab").number("2026") == "٢٠٢٦"
    assert language("ar", "latn").number("2026") == "2026"


@pytest.mark.parametrize("tag", ["fr", "ja", "de"])
def test_apostrophes_stay_apostrophes(tag: str):
    html = inline_markdown("The body's cells, qu'elle dit, l'été.", tag)
    assert "body\u2019s" in html and "qu\u2019elle" in html and "l\u2019été" in html
    for mark in ("\u203a", "\u300f", "\u2018", "'"):
        assert mark not in html, (tag, mark, html)


@pytest.mark.parametrize("tag", ["en", "fr", "de", "ja", "he", "ar", "zh-Hans"])
def test_quote_marks_come_from_the_language(tag: str):
    opening, closing = language(tag).quotes
    html = inline_markdown('She said "rest" and it\'s fine.', tag)
    assert f"{opening}rest{closing}" in html.replace("&#8239;", "\u202f"), html
    assert f"it{language(tag).apostrophe}s" in html


def test_hyphenation_is_written_per_language_from_its_dictionary():
    import pyphen

    tags = ("en", "es", "de", "zh-Hans", "ko", "ar")
    css = language_css(tags, source="en")
    for tag in tags:
        rule = re.search(rf"^:lang\({re.escape(tag)}\) :is\(p, li, dd\) {{ hyphens: auto",
                         css, re.M)
        has_dictionary = bool(pyphen.language_fallback(tag.replace("-", "_")))
        assert language(tag).hyphenate == (has_dictionary and language(tag).script not in
                                           {"Hans", "Hant", "Jpan", "Kore"})
        assert bool(rule) == (language(tag).hyphenate and tag != "en"), tag
    # The source language keeps whole words, whichever it is.
    assert not re.search(r"^:lang\(es\) :is", language_css(tags, source="es"), re.M)


def test_every_new_language_builds_first_time_with_its_fonts_and_digits(editions):
    """fr, he, ko, ur, fa, hi (and ar): one `i18n update`, one translated paragraph,
    and the edition is set in the Language's own font with its own digits."""
    for tag in LANGUAGES:
        facts = language(tag, "arab" if tag == "ar" else None)
        fonts = _fonts(editions[tag])
        assert any(facts.fonts[0].replace(" ", "-") in name for name in fonts), (tag, fonts)
        pages = PdfReader(editions[tag]).pages
        count = facts.number(str(len(pages)))
        assert count in pages[-1].extract_text(), (tag, count)
        if facts.script in ("Latn", "Hebr"):  # scripts whose text extracts as typed
            text = " ".join(page.extract_text() for page in pages)
            words = re.findall(r"\w+", TRANSLATIONS[tag])
            assert all(word in text for word in words), (tag, words)


def test_korean_edition_uses_the_korean_font_and_breaks_at_spaces(editions):
    pdf = editions["ko"]
    assert any("CJK-KR" in name for name in _fonts(pdf)), _fonts(pdf)
    text = "\n".join(page.extract_text() or "" for page in PdfReader(pdf).pages)
    for word in re.findall(r"[\uac00-\ud7a3]+", TRANSLATIONS["ko"]):
        assert word in text, f"{word!r} broken across lines"


def test_urdu_edition_is_set_in_nastaliq(editions):
    assert any("Nastaliq-Urdu" in name for name in _fonts(editions["ur"])), \
        _fonts(editions["ur"])


def test_hebrew_edition_fonts_and_spread_direction(editions):
    assert any("Sans-Hebrew" in name for name in _fonts(editions["he"]))
    for tag in ("he", "ar", "fa", "ur"):
        with pikepdf.open(editions[tag]) as pdf:
            assert pdf.Root.ViewerPreferences.Direction == pikepdf.Name.R2L
    with pikepdf.open(editions["ko"]) as pdf:
        assert "/Direction" not in pdf.Root.get("/ViewerPreferences", {})


def test_persian_and_arabic_page_numbers_and_dates_use_their_digits(editions):
    for tag, numbering in (("fa", language("fa").numbering), ("ar", "arab")):
        if numbering == "latn":
            continue
        digits = DIGITS[numbering][0]
        pages = PdfReader(editions[tag]).pages
        last = pages[-1].extract_text()
        count = str(len(pages)).translate(str.maketrans("0123456789", digits))
        assert count in last, (tag, last[-200:])
        footer = last.strip().splitlines()[-1]
        assert not re.search(r"\d", footer.replace("1.2", "").translate(
            str.maketrans("", "", digits))), footer  # no Latin page number beside
    back = PdfReader(editions["ar"]).pages[-1].extract_text()
    assert "Português (Brasil)" in back and "\u060c" in back
    count = str(len(LANGUAGES) + 2).translate(str.maketrans("0123456789", DIGITS["arab"][0]))
    assert f"Available in {count} languages" in back, back
