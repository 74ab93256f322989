"""The safety gate (issue 8): nothing unreviewed reaches a family.

Each test is one finding of the issue, on the small fixture project
tests/projects/gate (never the ANKL content). Builds are shared per module.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from booklet import pdf
from booklet.build import build_edition
from booklet.cli import main
from booklet.errors import BookletError
from booklet.project import load_project
from booklet.render import Edition
from booklet.review import approval, approve, fingerprint, fingerprint_parts

from conftest import PROJECTS, page_texts

EN = Edition("en", "a4")


def copy_project(dest: Path) -> Path:
    shutil.copytree(PROJECTS / "gate", dest)
    return dest


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "gate")


# --- the DRAFT mark cannot be hidden -------------------------------------------------

HIDE_CSS = """.draft-mark, .draft-notice { display: none !important; }
html, body { background: white !important; }
"""
HIDE_TEMPLATE = """<!DOCTYPE html><html lang="{{ lang }}"><head><meta charset="utf-8">
<title>{{ title }}</title></head><body>{% for chapter in chapters %}
<section>{{ chapter.html|safe }}</section>{% endfor %}</body></html>
"""


@pytest.fixture(scope="module")
def hidden_attempt(tmp_path_factory) -> tuple[Path, Path]:
    """A draft whose project CSS and template both try to remove the mark, built twice."""
    root = copy_project(tmp_path_factory.mktemp("hide") / "gate")
    (root / "styles").mkdir()
    (root / "styles" / "custom.css").write_text(HIDE_CSS)
    (root / "templates").mkdir()
    (root / "templates" / "handout.html").write_text(HIDE_TEMPLATE)
    first = build_edition(root, EN, root / "dist1")
    second = build_edition(root, EN, root / "dist2")
    assert first.draft
    return first.path, second.path


def test_css_and_template_cannot_hide_the_draft_mark(hidden_attempt):
    path, _ = hidden_attempt
    assert pdf.draft_problems(path.read_bytes()) == []
    texts = page_texts(path)
    assert texts and all("DRAFT" in text for text in texts)


def test_stamped_draft_is_byte_identical_across_builds(hidden_attempt):
    first, second = hidden_attempt
    assert first.read_bytes() == second.read_bytes()


def test_an_unstamped_draft_is_refused(hidden_attempt, tmp_path: Path):
    import pikepdf

    path, _ = hidden_attempt
    with pikepdf.open(path) as document:
        del document.pages[0].obj.Resources.XObject[pdf.DRAFT_XOBJECT]
        document.save(tmp_path / "tampered.pdf")
    with pytest.raises(BookletError, match="page 1: no DRAFT mark"):
        pdf.require_draft_mark((tmp_path / "tampered.pdf").read_bytes(), "x.pdf")


@pytest.mark.parametrize("after", [b"0 0 100 100 re f", b"BT /F1 12 Tf (x) Tj ET"])
def test_anything_drawn_after_the_mark_is_refused(hidden_attempt, tmp_path: Path, after):
    import pikepdf

    path, _ = hidden_attempt
    with pikepdf.open(path) as document:
        document.pages[0].contents_add(pikepdf.Stream(document, after))
        document.save(tmp_path / "covered.pdf")
    with pytest.raises(BookletError, match="page 1: the DRAFT mark is not drawn last"):
        pdf.require_draft_mark((tmp_path / "covered.pdf").read_bytes(), "x.pdf")


# --- the fingerprint covers what prints, and says what changed ------------------------

CHANGES = {
    "styles/custom.css": lambda root: (root / "styles").mkdir() or
    (root / "styles" / "custom.css").write_text("table { display: none !important; }"),
    "templates/disclaimer.html": lambda root: (root / "templates").mkdir() or
    (root / "templates" / "disclaimer.html").write_text("<p>Nothing to worry about.</p>"),
    "assets/plaster.png": lambda root: (root / "assets" / "plaster.png").write_bytes(
        (root / "assets" / "plaster.png").read_bytes() + b"\0"),
    "chapter 01 (chapters/01-cut.md)": lambda root: (root / "chapters" / "01-cut.md").write_text(
        (root / "chapters" / "01-cut.md").read_text().replace("5 minutes", "50 minutes")),
    "the handout's texts in booklet.toml": lambda root: (root / "booklet.toml").write_text(
        (root / "booklet.toml").read_text().replace("call your clinic now", "wait")),
    "chapters/dressings.toml": lambda root: (root / "chapters" / "dressings.toml").write_text(
        (root / "chapters" / "dressings.toml").read_text().replace('"3"', '"30"')),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_each_kind_of_input_unapproves_and_is_named(project: Path, change: str):
    approve(load_project(project), "en", "Dr. Test", on=dt.date(2026, 3, 2))
    assert approval(load_project(project), "en") is not None
    CHANGES[change](project)
    assert approval(load_project(project), "en") is None
    result = CliRunner().invoke(main, ["review", "status", str(project)])
    assert result.exit_code == 0, result.output
    assert f"changed: {change}" in result.output or f"added: {change}" in result.output


def test_disclaimer_fields_are_hashed_as_structured_data(project: Path):
    config = project / "booklet.toml"
    before = fingerprint(load_project(project), "en")
    text = config.read_text()
    # Move a sentence from the long disclaimer into the short one: the joined text is equal.
    config.write_text(text.replace(
        'text = "General information only. If the bleeding does not stop, call your clinic '
        'now."\nshort = "General information only."',
        'text = "General information only."\nshort = "If the bleeding does not stop, call '
        'your clinic now.\\nGeneral information only."'))
    assert config.read_text() != text
    assert fingerprint(load_project(project), "en") != before


def test_catalog_comments_and_line_references_do_not_unapprove(project: Path):
    po = project / "locales" / "es" / "LC_MESSAGES" / "booklet.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                  '#: chapters/01-cut.md:5\nmsgid "Hello"\nmsgstr "Hola"\n', encoding="utf-8")
    before = fingerprint_parts(load_project(project), "es")
    po.write_text(po.read_text().replace("01-cut.md:5", "01-cut.md:9")
                  .replace("#: ", "# translator note\n#: "))
    assert fingerprint_parts(load_project(project), "es") == before
    po.write_text(po.read_text().replace('"Hola"', '"Adiós"'))
    assert fingerprint_parts(load_project(project), "es")["locales/es"] != \
        before["locales/es"]


def test_approve_shows_what_it_approves_and_the_changes(project: Path):
    runner = CliRunner()
    first = runner.invoke(main, ["approve", str(project), "--lang", "en", "--by", "Dr. Test"])
    assert first.exit_code == 0, first.output
    assert "Approving en" in first.output and "1 chapter(s)" in first.output
    CHANGES["assets/plaster.png"](project)
    second = runner.invoke(main, ["approve", str(project), "--lang", "en", "--by", "Dr. Test"])
    assert "changed: assets/plaster.png" in second.output


# --- templates run sandboxed; theme strings know only {n} -----------------------------

def test_template_override_cannot_run_python(project: Path, tmp_path: Path):
    (project / "templates").mkdir()
    (project / "templates" / "cover.html").write_text(
        '<section class="cover">{{ cycler.__init__.__globals__.os.popen("id").read() }}'
        "</section>\n")
    with pytest.raises(BookletError, match=r"cover\.html:1: .*(Security|Undefined)") as info:
        build_edition(project, EN, tmp_path / "out")
    assert "uid=" not in str(info.value)


def test_safe_format_knows_only_plain_placeholders():
    from booklet.render import safe_format

    assert safe_format("Available in {n} languages", {"n": 3}) == "Available in 3 languages"
    for evil in ("{n:>300000}", "{n[0]}", "{n.__class__}", "{m}"):
        with pytest.raises(BookletError, match="template string"):
            safe_format(evil, {"n": 3})


@pytest.fixture(scope="module")
def spanish_catalog(tmp_path_factory) -> Path:
    """The fixture with a Spanish catalog made by `booklet i18n update`, all untranslated."""
    root = copy_project(tmp_path_factory.mktemp("es") / "gate")
    result = CliRunner().invoke(main, ["i18n", "update", str(root)])
    assert result.exit_code == 0, result.output
    return root


def set_translation(root: Path, msgid, msgstr) -> tuple[Path, int]:
    """Translate one message in the Spanish catalog; return the PO path and its line."""
    from babel.messages.pofile import read_po, write_po

    po = root / "locales" / "es" / "LC_MESSAGES" / "booklet.po"
    with po.open("rb") as handle:
        catalog = read_po(handle)
    catalog[msgid].string = msgstr
    catalog[msgid].flags.discard("fuzzy")
    with po.open("wb") as handle:
        write_po(handle, catalog, width=0)
    with po.open("rb") as handle:
        return po, read_po(handle)[msgid].lineno


@pytest.fixture
def spanish(spanish_catalog: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(spanish_catalog, tmp_path / "gate"))


def test_plural_theme_string_with_a_format_spec_is_an_error_with_file_line(spanish: Path):
    from babel.messages.pofile import read_po

    from booklet import i18n

    with (spanish / "locales" / "es" / "LC_MESSAGES" / "booklet.po").open("rb") as handle:
        forms = read_po(handle).num_plurals  # as many forms as the catalog's plural rule
    po, line = set_translation(spanish, "Available in {n} language:",
                               ("Disponible en {n} idioma:",) + ("{n:>300000}",) * (forms - 1))
    with pytest.raises(BookletError, match=rf"booklet\.po:{line}: .*format spec"):
        i18n.localize(load_project(spanish), "es")


# --- nothing silently disappears -------------------------------------------------------

LONG_WORD = "Supercalifragilistic" * 40


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> Path:
    """A corrupt image, a rejected CSS rule, an 800-character word and a long nowrap cell."""
    root = copy_project(tmp_path_factory.mktemp("broken") / "gate")
    (root / "assets" / "plaster.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    (root / "styles").mkdir()
    (root / "styles" / "custom.css").write_text("h2 {\n  colr: red;\n}\n")
    (root / "assets" / "entity.svg").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50">'
        '<text x="0" y="20">&x;</text></svg>\n')
    from PIL import Image

    Image.new("1", (20000, 20000)).save(root / "assets" / "huge.png", optimize=True)
    chapter = root / "chapters" / "01-cut.md"
    chapter.write_text(chapter.read_text() + f"\n{LONG_WORD}\n\n![entity](../assets/entity.svg)"
                       "\n\n![huge](../assets/huge.png)\n")
    table = root / "chapters" / "dressings.toml"
    table.write_text(table.read_text().replace('label = "Dressing"',
                                               'label = "Dressing"\nnowrap = true')
                     .replace('kind = "Plaster"', 'kind = "' + "Plaster strip " * 30 + '"'))
    return root


@pytest.fixture(scope="module")
def broken_build(broken: Path, tmp_path_factory):
    return build_edition(broken, EN, tmp_path_factory.mktemp("broken-out"))


@pytest.mark.parametrize("image", ["plaster.png", "entity.svg", "huge.png"])
def test_an_image_that_cannot_be_drawn_is_a_warning_with_chapter_line(broken_build, image):
    assert any("01-cut.md:" in w and f"image 'assets/{image}' cannot be drawn" in w
               for w in broken_build.warnings), broken_build.warnings
    assert "root:" not in " ".join(page_texts(broken_build.path))


def test_a_rejected_css_rule_is_a_warning_with_file_and_line(broken_build):
    assert any(p.code == "css-ignored" and p.location.startswith("styles/custom.css:2:")
               and "colr" in p.message for p in broken_build.problems), broken_build.warnings


def test_text_running_off_the_page_is_a_warning(broken_build):
    overflow = [w for w in broken_build.warnings if "past the right edge" in w]
    assert any("Supercalifragilistic" in w and "chapter 'cut'" in w for w in overflow), \
        broken_build.warnings
    assert any("Plaster strip" in w for w in overflow), broken_build.warnings


def test_rendering_problems_are_errors_under_strict_and_when_approved(broken: Path,
                                                                     tmp_path: Path):
    with pytest.raises(BookletError, match=r"--strict.*\n.*"):
        build_edition(broken, EN, tmp_path / "strict", strict=True)
    root = Path(shutil.copytree(broken, tmp_path / "approved"))
    approve(load_project(root), "en", "Dr. Test", on=dt.date(2026, 3, 2))
    with pytest.raises(BookletError, match="approved edition must print in full"):
        build_edition(root, EN, tmp_path / "approved-out")


# --- links: only web, mail, phone and the handout's own chapters --------------------------

def chapter_with(root: Path, body: str) -> Path:
    chapter = root / "chapters" / "01-cut.md"
    chapter.write_text("---\ntitle: How do I clean a cut?\n---\n\n" + body)
    return chapter


@pytest.mark.parametrize("body, line", [
    ("Text.\n\n[passwords](file:///etc/passwd)\n", 7),
    ('Text.\n\nSee <a href="file:///etc/passwd">this</a>.\n', 7),
    ("[run](javascript:alert(1))\n", 5),
    ('<a href="javascript:alert(1)">x</a>\n', 5),
])
def test_a_link_that_is_not_web_mail_phone_or_chapter_is_refused_with_line(
        project: Path, body: str, line: int):
    from booklet.content import load_chapters

    chapter_with(project, body)
    with pytest.raises(BookletError, match=rf"01-cut\.md:{line}: (raw HTML )?link '"):
        load_chapters(load_project(project))


def test_allowed_links_and_directives_without_blank_lines(project: Path):
    from booklet.content import load_chapters

    chapter_with(project, "Call [us](tel:+15550199) or [mail](mailto:a@example.org).\n"
                 "::: newpage\nAfter the break <https://example.org>.\n::: lines 2\n"
                 "::: table dressings\nEnd.\n")
    html = load_chapters(load_project(project))[0].html
    assert "booklet-directive" not in html and "\x02" not in html and ":::" not in html
    assert html.count('class="page-break"') == 1 and html.count('class="line"') == 2
    assert 'id="table-dressings"' in html and 'data-label="Dressing"' in html
    assert 'href="tel:+15550199"' in html and 'href="https://example.org"' in html


def test_unknown_directive_names_chapter_and_line(project: Path):
    from booklet.content import load_chapters

    chapter_with(project, "Text.\n::: newpage\n::: dance\n")
    with pytest.raises(BookletError, match=r"01-cut\.md:7: unknown directive"):
        load_chapters(load_project(project))


# --- translations: quantities and structure, named by PO file and line -----------------

@pytest.mark.parametrize("msgid, msgstr", [
    ("About 73% of small cuts heal in 5 days.", "Cerca del 5% de los cortes sanan en 73 días."),
    ("Take 2 tablets 3 times a day for the pain.", "Tome 3 tabletas 2 veces al día para el dolor."),
    ("Fewer than <5% of cuts need stitches; >20% need a plaster.",
     "Menos del <50% necesitan puntos; >20% necesitan una tirita."),
    ("About 73% of small cuts heal in 5 days.", "Cerca del 73 de los cortes sanan en 5 días."),
    ("Change the dressing 2 times a day.", "Cambie el apósito 2 veces al día. {: .draft-mark }"),
    ("Change the dressing 2 times a day.",
     "Cambie el apósito 2 veces al día <https://evil.example>."),
])
def test_translation_attack_is_an_error_with_po_file_and_line(spanish: Path, msgid, msgstr):
    from booklet import i18n

    po, line = set_translation(spanish, msgid, msgstr)
    with pytest.raises(BookletError, match=rf"booklet\.po:{line}: "):
        i18n.localize(load_project(spanish), "es")


def test_reordered_bare_numbers_are_listed_for_the_reviewer(spanish: Path):
    from booklet import i18n

    po, line = set_translation(spanish, "Clean it between 1 and 3 times a day.",
                               "Límpielo entre 3 y 1 veces al día.")
    i18n.localize(load_project(spanish), "es")  # not an error
    runner = CliRunner()
    status = runner.invoke(main, ["i18n", "status", str(spanish)])
    assert f"booklet.po:{line}: numbers in another order" in status.output, status.output
    approved = runner.invoke(main, ["approve", str(spanish), "--lang", "es", "--by", "Dr. T"])
    assert f"listed for review: {po}:{line}" in approved.output, approved.output


def test_a_file_link_in_a_table_cell_is_refused_with_the_table_file(project: Path):
    from booklet.content import load_chapters

    table = project / "chapters" / "dressings.toml"
    table.write_text(table.read_text().replace('kind = "Plaster"',
                                               'kind = "[Plaster](file:///etc/passwd)"'))
    with pytest.raises(BookletError, match=r"dressings\.toml: link 'file:///etc/passwd'"):
        load_chapters(load_project(project))


def test_pdf_x1a_mark_is_opaque_outlines(hidden_attempt):
    """PDF/X-1a allows no transparency: the mark is drawn as opaque outlined letters."""
    import pikepdf

    path, _ = hidden_attempt
    mark = pdf.draft_mark_pdf("DRAFT", "en", cmyk=True)
    stamped = pdf.stamp_draft(path.read_bytes(), mark, outline=True)
    assert pdf.draft_problems(stamped) == []
    with pikepdf.open(io.BytesIO(stamped)) as document:
        form = document.pages[0].Resources.XObject[pdf.DRAFT_XOBJECT]
        states = form.get("/Resources", {}).get("/ExtGState", {})
        assert all(float(s.get("/ca", 1)) == 1 and float(s.get("/CA", 1)) == 1
                   for s in states.values())
        operators = [str(op) for _, op in pikepdf.parse_content_stream(form)]
        assert "Tr" in operators and "gs" not in operators


def test_a_missing_image_is_an_error_in_an_approved_edition(project: Path, tmp_path: Path):
    (project / "assets" / "plaster.png").unlink()
    approve(load_project(project), "en", "Dr. Test", on=dt.date(2026, 3, 2))
    with pytest.raises(BookletError, match=r"01-cut\.md:7: image '../assets/plaster.png' not"):
        build_edition(project, EN, tmp_path / "out")


def test_a_remote_import_in_project_css_is_refused(project: Path, tmp_path: Path):
    (project / "styles").mkdir()
    (project / "styles" / "custom.css").write_text('@import url("https://example.org/x.css");\n')
    with pytest.raises(BookletError, match="refused to load https://example.org/x.css"):
        build_edition(project, EN, tmp_path / "out")
