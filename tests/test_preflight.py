"""Preflight: the checks read the written PDF and name each planted mistake with its place.

Two module-scoped builds of tests/projects/preflight: the fixture as it is
(clean: no errors) and a copy with one mistake of each kind planted. Where a
problem says it is, is checked against the page text pypdf extracts.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from booklet.build import build_all, build_edition
from booklet.cli import main
from booklet.core import ERROR, WARNING, BookletError, Edition
from booklet.preflight import CHECKS, preflight
from booklet.project import load_project

from conftest import PROJECTS, normalize, page_texts

FIXTURE = PROJECTS / "preflight"
A4 = Edition("en", "a4")


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> dict[str, object]:
    """The fixture in A4 and as an A5 booklet, built once."""
    out = tmp_path_factory.mktemp("clean")
    results = build_all(load_project(FIXTURE), None, None, out, jobs=2)
    return {r.edition.format: r for r in results}


def _plant(root: Path) -> None:
    """One mistake of each kind, each in a known place."""
    first = root / "chapters" / "01-first-days.md"
    first.write_text(first.read_text().replace(
        "![An arm in a plaster cast, resting on a cushion]", "![]"))  # no alt text
    second = root / "chapters" / "02-daily-life.md"
    second.write_text(second.read_text()
                      .replace("## When does the cast come off?",  # level 2 -> 4
                               "#### When does the cast come off?")
                      .replace("about sport and driving.", "about sport and driving.[^1]\n\n"
                               "[^1]: Some schools ask for a note from your doctor."))
    # A drawing too tall to share a page: the chapter's first page is left a hole.
    (root / "assets" / "tall.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="900" '
        'viewBox="0 0 400 900"><rect x="20" y="20" width="360" height="860" fill="#ddd"/>'
        "</svg>")
    (root / "chapters" / "03-exercises.md").write_text(
        "---\ntitle: Exercises\n---\n\nMove your fingers and your shoulder every day.\n\n"
        "![A drawing of finger exercises](../assets/tall.svg)\n\n"
        "Do each exercise *10 times*, **3 times a day**.\n")
    (root / "chapters" / "04-nurse-notes.md").write_text(
        "---\ntitle: Notes from your nurse\n---\n\n")  # an empty chapter
    css = root / "styles" / "custom.css"
    css.write_text(css.read_text() + "\n.footnote { font-size: 9pt; }\n"
                   "h3 { margin-inline-start: -70mm; }\n"  # 9 pt notes; off the page
                   # Pale grey on white; black on a green that prints as a dark grey.
                   ".chapter em { color: #999999; }\n"
                   ".chapter strong { color: #000000; background: #00c000; }\n")
    config = root / "booklet.toml"
    config.write_text(config.read_text()
                      .replace("published = 2026-02-01", "published = 2020-02-01")
                      .replace("next_review = 2099-02-01", "next_review = 2021-02-01")
                      .replace('short = "General information only."',
                               'short = "General information only: this guide does not '
                               "replace the advice that your own care team gives you, so "
                               'ask them about anything you are not sure of."')
                      # More sources than the back cover holds: it runs onto a page more.
                      .replace('sources = ["A test fixture written for booklet\'s own tests."]',
                               "sources = [" + ", ".join(
                                   f'"Source {n}: a long reference that a clinic might cite '
                                   f'for its handout, with its journal and year."'
                                   for n in range(1, 16)) + "]"))


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[Path, Path, tuple[str, ...]]:
    """The fixture with the mistakes planted, built once in A4: (project, pdf, warnings)."""
    root = tmp_path_factory.mktemp("planted") / "project"
    shutil.copytree(FIXTURE, root)
    _plant(root)
    result = build_edition(root, A4, root / "dist")
    from booklet.manifest import record_editions

    record_editions(root / "dist", [result.manifest_entry()])
    return root, result.path, result.warnings


@pytest.fixture(scope="module")
def found(planted):
    root, path, _warnings = planted
    return preflight(path, A4, load_project(root))


def _one(problems, code: str):
    matching = [p for p in problems if p.code == code]
    assert len(matching) == 1, (code, problems)
    return matching[0]


def _page_of(path: Path, text: str) -> int:
    """The page (1-based) where pypdf finds text, after the cover and contents."""
    pages = [n for n, t in enumerate(page_texts(path), 1) if n > 2 and text in normalize(t)]
    assert pages, text
    return pages[0]


def test_clean_editions_have_no_errors(clean):
    project = load_project(FIXTURE)
    for result in clean.values():
        problems = preflight(result.path, result.edition, project,
                             today=dt.date(2026, 11, 27))
        assert [p for p in problems if p.level == ERROR] == [], problems
        # A draft is reported, as a warning while building.
        assert [p.code for p in problems] == ["review-draft"], problems


def test_build_reports_the_preflight(planted, clean):
    assert any(w.endswith("[image-alt]") and "booklet check fails on this" in w
               for w in planted[2])
    assert any(w.endswith("[footer-wraps]") for w in planted[2])
    assert clean["a4"].warnings == ()  # the draft is reported by the build itself


def test_missing_alt_text_is_named_with_its_page(found, planted):
    problem = _one(found, "image-alt")
    assert problem.level == ERROR
    page = _page_of(planted[1], "How do I keep the cast dry?")
    assert problem.location.endswith(f"(en a4), page {page}")
    assert "How do I keep the cast dry?" in problem.message


def test_skipped_heading_level_is_named_with_its_heading_and_page(found, planted):
    problem = _one(found, "heading-skip")
    assert problem.level == ERROR
    assert "level 4 'When does the cast come off?' follows level 2" in problem.message
    page = _page_of(planted[1], "When does the cast come off?")
    assert problem.location.endswith(f"page {page}")


def test_9pt_footnote_is_too_small(found, planted):
    problem = _one(found, "text-too-small")
    assert problem.level == ERROR
    assert problem.message.startswith("9 pt text 'Some schools ask for a note")
    assert "12 pt minimum for body text" in problem.message
    page = _page_of(planted[1], "Some schools ask for a note from your doctor.")
    assert problem.location.endswith(f"page {page}")


def test_overdue_review_is_a_warning_for_build_and_an_error_for_sending(planted, found):
    problem = _one(found, "review-overdue")
    assert problem.level == WARNING and "2021-02-01" in problem.message
    root, path, _warnings = planted
    sending = preflight(path, A4, load_project(root), for_sending=True)
    assert _one(sending, "review-overdue").level == ERROR
    assert _one(sending, "review-draft").level == ERROR


def test_text_outside_the_page_is_named(found, planted):
    problems = [p for p in found if p.code == "text-outside"]
    assert any("'What should I not do?'" in p.message and p.location.endswith(
        f"page {_page_of(planted[1], 'What should I not do?')}") for p in problems), found


def test_page_hole_and_wrapped_footer_are_layout_warnings(found, planted):
    hole = _one(found, "page-hole")
    page = _page_of(planted[1], "Move your fingers and your shoulder every day.")
    assert hole.level == WARNING and hole.location.endswith(f"page {page}")
    footer = _one(found, "footer-wraps")
    assert footer.level == WARNING and "2 lines" in footer.message


def test_empty_chapter_is_named(found, planted):
    problem = _one(found, "empty-chapter")
    assert "'Notes from your nurse' has a title and nothing else" in problem.message
    assert problem.location.endswith(f"page {_page_of(planted[1], 'Notes from your nurse')}")


def test_low_contrast_is_named_with_its_colours_and_page(found, planted):
    from booklet.preflight import CONTRAST_FLOOR, contrast_ratio

    problem = _one(found, "contrast-low")
    assert problem.level == ERROR
    ratio = contrast_ratio((0.6, 0.6, 0.6), (1.0, 1.0, 1.0))
    assert problem.message.startswith(f"text '10 times' in #999999 on #ffffff has a contrast "
                                      f"of {ratio:.1f}:1, under the {CONTRAST_FLOOR:g}:1")
    assert problem.location.endswith(f"page {_page_of(planted[1], '10 times')}")


def test_contrast_that_fails_only_in_grey_is_named(found, planted):
    from booklet.preflight import contrast_ratio, grey

    green = (0.0, 0xC0 / 255, 0.0)
    assert contrast_ratio((0, 0, 0), green) >= 7  # fine on screen...
    problem = _one(found, "contrast-low-grey")  # ...but not from an office printer
    assert problem.level == ERROR
    assert "'3 times a day'" in problem.message and "from #000000 on #00c000" in problem.message
    assert f"{contrast_ratio(grey((0, 0, 0)), grey(green)):.1f}:1" in problem.message
    assert problem.location.endswith(f"page {_page_of(planted[1], '3 times a day')}")


def test_contrast_measures_what_is_painted_under_the_text(tmp_path):
    """Tints, box rules drawn as rings, transparency and pictures, read from the file."""
    import pikepdf

    from booklet.preflight import Document, check_contrast

    def page(content: bytes) -> Path:
        pdf = pikepdf.new()
        cmap = pdf.make_stream(b"begincmap 1 beginbfrange <20> <7e> <0020> endbfrange endcmap")
        font = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica,
            FirstChar=32, Widths=[500] * 95, ToUnicode=cmap))
        pdf.add_blank_page(page_size=(300, 300))
        picture = pdf.make_stream(b"\x40", Type=pikepdf.Name.XObject,
                                  Subtype=pikepdf.Name.Image, Width=1, Height=1,
                                  ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8)
        gradient = pikepdf.Dictionary(  # dark grey to darker, left to right
            ShadingType=2, ColorSpace=pikepdf.Name.DeviceGray, Coords=[0, 0, 300, 0],
            Function=pikepdf.Dictionary(FunctionType=2, Domain=[0, 1], C0=[0.3], C1=[0.2],
                                        N=1))
        pdf.pages[0].Resources = pikepdf.Dictionary(
            Font=pikepdf.Dictionary(F1=font), XObject=pikepdf.Dictionary(Im=picture),
            Shading=pikepdf.Dictionary(Sh=gradient),
            ExtGState=pikepdf.Dictionary(Half=pikepdf.Dictionary(ca=0.5)))
        pdf.pages[0].Contents = pdf.make_stream(content)
        path = tmp_path / f"contrast-{len(list(tmp_path.glob('*.pdf')))}.pdf"
        pdf.save(path)
        return path

    def problems(content: bytes) -> list[str]:
        doc = Document(page(content), A4)
        try:
            return [f"{p.code} {p.level}" for p in check_contrast(doc)]
        finally:
            doc.close()

    text = b"BT /F1 14 Tf 40 150 Td (Read me please) Tj ET"
    assert problems(b"0.1 g " + text) == []
    assert problems(b"0.45 g " + text) == ["contrast-low warning"]  # 5.6:1: under 7:1
    # A dark tint under dark text; a ring (a box's rule) around the text is no background.
    assert problems(b"0.3 g 20 130 200 50 re f 0 g " + text) == ["contrast-low error"]
    assert problems(b"0 g 20 130 200 50 re 24 134 192 42 re f* 0.1 g " + text) == []
    # The tint and the text both at half strength; a dark picture or gradient under the text.
    assert problems(b"/Half gs 0.3 g 20 130 200 50 re f 0 g " + text) == ["contrast-low error"]
    assert problems(b"q 200 0 0 50 20 130 cm /Im Do Q 0.1 g " + text) == ["contrast-low error"]
    assert problems(b"q 200 0 0 50 20 130 cm /Im Do Q 1 g " + text) == []
    assert problems(b"q 20 130 200 50 re W n /Sh sh Q 0.1 g " + text) == ["contrast-low error"]
    assert problems(b"q 20 130 200 50 re W n /Sh sh Q 1 g " + text) == []
    # Painted after the text, a shape is no background to it.
    assert problems(b"0.1 g " + text + b" 0.3 g 20 130 200 50 re f") == []


def test_a_back_cover_on_two_pages_is_named(found, planted):
    problem = _one(found, "back-cover-spills")
    pages = len(page_texts(planted[1]))
    assert problem.level == WARNING and f"page {pages}" in problem.location
    assert "runs over 2 pages" in problem.message


def test_nothing_else_is_reported(found):
    expected = {"image-alt", "heading-skip", "text-too-small", "review-overdue",
                "review-draft", "text-outside", "page-hole", "footer-wraps", "empty-chapter",
                "contrast-low", "contrast-low-grey", "back-cover-spills"}
    assert {p.code for p in found} == expected


def test_approved_edition_then_changed_content(tmp_path):
    from booklet.manifest import load_manifest
    from booklet.review import approve

    root = tmp_path / "approved"
    shutil.copytree(FIXTURE, root)
    approve(load_project(root), "en", "Dr. Test Reviewer", on=dt.date(2026, 3, 1))
    out = root / "dist"
    result = build_all(load_project(root), None, ["a4"], out)[0]
    assert not result.draft
    entry = load_manifest(out)[result.path.name]
    problems = preflight(result.path, A4, load_project(root), entry=entry,
                         for_sending=True, today=dt.date(2026, 11, 27))
    assert problems == []
    chapter = root / "chapters" / "01-first-days.md"
    chapter.write_text(chapter.read_text() + "\nMove your shoulder too.\n")
    problems = preflight(result.path, A4, load_project(root), entry=entry,
                         today=dt.date(2026, 11, 27))
    assert _one(problems, "review-outdated").level == WARNING


def test_overdue_by_date_on_the_clean_edition(clean):
    result = clean["a4"]
    project = load_project(FIXTURE)
    late = project.next_review + dt.timedelta(days=1)
    problems = preflight(result.path, A4, project, today=late)
    assert _one(problems, "review-overdue").level == WARNING


def test_booklet_page_count_must_be_a_multiple_of_4(clean):
    a4 = clean["a4"]
    assert a4.pages % 4, "the fixture's A4 edition should not be a multiple of 4 pages"
    problems = preflight(a4.path, Edition("en", "a5-booklet"), load_project(FIXTURE))
    assert f"{a4.pages} pages, not a multiple of 4" in _one(problems, "page-count").message
    assert not [p for p in preflight(clean["a5-booklet"].path, Edition("en", "a5-booklet"),
                                     load_project(FIXTURE)) if p.code == "page-count"]


def test_page_and_file_budgets_from_booklet_toml(clean, tmp_path):
    root = tmp_path / "budget"
    shutil.copytree(FIXTURE, root)
    config = root / "booklet.toml"
    config.write_text(config.read_text().replace("pages = 40\nfile_kb = 2000",
                                                 "pages = 40\nfile_kb = 1\n\n"
                                                 '[budgets."a4"]\npages = 2'))
    problems = preflight(clean["a4"].path, A4, load_project(root))
    assert "over the budget of 2" in _one(problems, "page-budget").message
    assert "over the budget of 1 KB" in _one(problems, "file-budget").message


def test_bad_budget_is_a_config_error(tmp_path):
    root = tmp_path / "budget"
    shutil.copytree(FIXTURE, root)
    config = root / "booklet.toml"
    config.write_text(config.read_text().replace("pages = 40", 'pages = "forty"'))
    with pytest.raises(BookletError, match=r"key 'budgets.pages': got 'forty'"):
        load_project(root)


def test_every_check_is_registered_with_codes():
    assert {c.group for c in CHECKS} == {"structure", "print", "layout", "review"}
    codes = [code for c in CHECKS for code in c.codes]
    assert len(codes) == len(set(codes))
    assert {"image-alt", "heading-skip", "text-too-small", "glyph-0", "font-not-embedded",
            "page-count", "text-outside", "page-hole", "footer-wraps",
            "link-broken", "contrast-low", "contrast-low-grey"} <= set(codes)


def _check(*args: str):
    return CliRunner().invoke(main, ["check", *args])


def test_cli_check_json_names_the_planted_mistakes_and_exits_1(planted):
    root, path, _warnings = planted
    result = _check(str(root), "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    codes = {p["code"] for p in problems}
    assert {"image-alt", "heading-skip", "text-too-small", "review-overdue",
            "contrast-low", "contrast-low-grey"} <= codes
    low = next(p for p in problems if p["code"] == "contrast-low")
    assert "'10 times' in #999999 on #ffffff" in low["message"]
    assert low["location"].endswith(f"page {_page_of(path, '10 times')}")
    assert all(set(p) == {"code", "level", "message", "location", "hint"} for p in problems)
    assert "Traceback" not in result.output


def test_cli_check_clean_exits_0_and_strict_fails_on_warnings(clean, tmp_path):
    out = clean["a4"].path.parent
    result = _check(str(FIXTURE), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "[review-draft]" in result.output
    assert _check(str(FIXTURE), "--out", str(out), "--strict").exit_code == 1
    assert _check(str(FIXTURE), "--out", str(out), "--for-sending").exit_code == 1


def test_cli_check_without_a_build_says_so(tmp_path):
    result = _check(str(FIXTURE), "--out", str(tmp_path / "nothing"))
    assert result.exit_code == 0
    assert "no built editions" in result.output and "[preflight-nothing]" in result.output


# --- a built PDF changed after the fact, read back -----------------------------


def _altered(source: Path, dest: Path, change) -> Path:
    import pikepdf

    with pikepdf.open(source) as pdf:
        change(pdf)
        pdf.save(dest)
    return dest


def _break_first_link(pdf) -> None:
    import pikepdf

    for page in pdf.pages:
        for annot in page.get("/Annots", []):
            if annot.get("/Subtype") == "/Link" and "/Dest" in annot:
                annot.Dest = pikepdf.String("no-such-place")
                return


def _draw_glyph_0(pdf) -> None:
    import pikepdf

    page = pdf.pages[2]
    ops = pikepdf.parse_content_stream(page)
    for index, (operands, operator) in enumerate(ops):
        if str(operator) == "TJ":
            items = list(operands[0])
            items[0] = pikepdf.String(b"\x00\x00")
            ops[index] = pikepdf.ContentStreamInstruction([pikepdf.Array(items)], operator)
            break
    page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(ops))


def _unembed_fonts(pdf) -> None:
    for page in pdf.pages:
        for font in page.Resources.get("/Font", {}).values():
            descriptor = font.DescendantFonts[0].FontDescriptor
            for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                if key in descriptor:
                    del descriptor[key]


def _drop_destination(name: str):
    def change(pdf) -> None:
        import pikepdf

        tree = pikepdf.NameTree(pdf.Root.Names.Dests)
        del tree[name]

    return change


@pytest.mark.parametrize(("change", "code", "words"), [
    (_break_first_link, "link-broken", "#no-such-place goes nowhere"),
    (_draw_glyph_0, "glyph-0", "draws glyph 0"),
    (_unembed_fonts, "font-not-embedded", "is not embedded"),
    (_drop_destination("daily-life"), "missing-chapter", "02-daily-life.md (#daily-life)"),
    (_drop_destination("disclaimer"), "missing-disclaimer", "no disclaimer box"),
    (_drop_destination("table-check-ups"), "missing-table", "check-ups.toml is not in"),
], ids=["link", "glyph-0", "embedding", "chapter", "disclaimer", "table"])
def test_altered_pdf(clean, tmp_path, change, code, words):
    path = _altered(clean["a4"].path, tmp_path / "altered.pdf", change)
    problems = preflight(path, A4, load_project(FIXTURE))
    problem = next((p for p in problems if p.code == code), None)
    assert problem is not None and problem.level == ERROR, problems
    assert words in problem.message


def test_unreadable_pdf_is_one_message(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7 not really")
    with pytest.raises(BookletError, match="not a readable PDF"):
        preflight(path, A4, load_project(FIXTURE))


@pytest.mark.parametrize("content", [
    b"q 1 0 0 -1 0 841.89 cm /Span <</MCID 3>> BDC BT /F1 12 Tf 0 0 Td "
    b"[<0012>-5<00130014>.5<>] TJ (a\\(b\\) \\101\\\nc) Tj ET EMC Q",
    b"BT /F1 9 Tf [(one) -20 (two)] TJ 1 2 Td 3.5 -.5 (x) \" T* <41 42 4> ' ET",
    b"0 0 10 10 re f /Im0 Do [1 2] 0 d BI /W 1 /H 1 /BPC 8 /CS /G ID \x00 EI",
    b"/P <</MCID 1 /Alt (a [b] <c>) /K [true false null]>> BDC 1 -2 m 3 4 l S EMC",
])
def test_the_content_reader_reads_what_pikepdf_reads(content: bytes):
    """The preflight's own tokenizer gives pikepdf's instructions as plain values."""
    import pikepdf

    from booklet.preflight import _content_instructions, _plain, _TextArray

    with pikepdf.new() as pdf:
        stream = pikepdf.Stream(pdf, content)
        expected = [([_plain(v) for v in operands], str(op))
                    for operands, op in pikepdf.parse_content_stream(stream)]
        read = [([v.values() if isinstance(v, _TextArray) else v for v in operands], op)
                for operands, op in _content_instructions(stream)]
        assert read == expected
