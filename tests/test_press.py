"""Tests for press files: slug and marks outside the bleed, output intent, CMYK only.

Read back with pikepdf from real builds of tests/projects/clinic.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner

from booklet import press
from booklet.build import build_edition
from booklet.cli import main
from booklet.core import BookletError, Edition
from booklet.project import load_project

FIXTURE = Path(__file__).resolve().parent / "projects" / "clinic"
MM = 72 / 25.4
HAVE_DEFAULT_PROFILE = any(p.is_file() for p in press.DEFAULT_PROFILES)


@pytest.fixture(scope="module")
def project_with_profile(tmp_path_factory) -> Path:
    """The fixture with the print shop's profile declared in [press]."""
    root = tmp_path_factory.mktemp("press") / "clinic"
    shutil.copytree(FIXTURE, root)
    profile = next((p for p in press.DEFAULT_PROFILES if p.is_file()), None)
    if profile is None:
        pytest.skip("no CMYK ICC profile installed (Debian: libgs-common)")
    (root / "assets").mkdir(exist_ok=True)
    shutil.copy(profile, root / "assets" / "shop.icc")
    with (root / "booklet.toml").open("a") as config:
        config.write('\n[press]\noutput_profile = "assets/shop.icc"\n'
                     'output_condition = "Test shop, coated paper"\n')
    return root


@pytest.fixture(scope="module")
def built(project_with_profile) -> dict[str, Path]:
    out = project_with_profile / "dist"
    return {fmt: build_edition(project_with_profile, Edition("en", fmt), out).path
            for fmt in ("press", "press-x1a")}


def _box(page, name: str) -> list[float]:
    return [float(v) for v in page.obj[name]]


def _mark_points(page) -> list[tuple[float, float]]:
    """Every point of the paths drawn in the registration colour."""
    points, marking = [], False
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "CS":
            space = page.Resources.ColorSpace.get(str(operands[0]))
            marking = isinstance(space, pikepdf.Array) and str(space[0]) == "/Separation" \
                and str(space[1]) == "/All"
        elif marking and op in ("m", "l", "c"):
            values = [float(v) for v in operands]
            points += list(zip(values[0::2], values[1::2], strict=True))
    return points


@pytest.mark.parametrize("fmt", ["press", "press-x1a"])
def test_media_box_holds_a_slug_around_the_bleed(built, fmt):
    with pikepdf.open(built[fmt]) as pdf:
        for page in pdf.pages:
            media, bleed = _box(page, "/MediaBox"), _box(page, "/BleedBox")
            trim = _box(page, "/TrimBox")
            assert media[0] < bleed[0] < trim[0] and media[1] < bleed[1] < trim[1]
            assert media[2] > bleed[2] > trim[2] and media[3] > bleed[3] > trim[3]
            assert bleed[0] - media[0] >= 5 * MM  # room for the marks


@pytest.mark.parametrize("fmt", ["press", "press-x1a"])
def test_marks_sit_outside_the_bleed_in_the_registration_colour(built, fmt):
    with pikepdf.open(built[fmt]) as pdf:
        for page in pdf.pages:
            bleed, media = _box(page, "/BleedBox"), _box(page, "/MediaBox")
            points = _mark_points(page)
            assert len(points) >= 16  # 8 crop marks, 4 registration targets
            for x, y in points:
                inside_bleed = bleed[0] < x < bleed[2] and bleed[1] < y < bleed[3]
                assert not inside_bleed, (x, y, bleed)
                assert media[0] <= x <= media[2] and media[1] <= y <= media[3]


@pytest.mark.parametrize("fmt", ["press", "press-x1a"])
def test_press_files_keep_the_tagged_structure(built, fmt):
    """The press finishing keeps WeasyPrint's tags; the marks it adds are artifacts."""
    from booklet.preflight import Document

    doc = Document(built[fmt], Edition("en", fmt))
    try:
        assert doc.pdf.Root.MarkInfo.Marked and "/StructTreeRoot" in doc.pdf.Root
        tags = [el.tag for el in doc.elements]
        assert "H1" in tags and "Table" in tags
        figures = [el for el in doc.elements if el.tag == "Figure"]
        assert any(el.alt == "A drawing of the new knee joint below the thigh bone"
                   for el in figures)
    finally:
        doc.close()
    with pikepdf.open(built[fmt]) as pdf:
        for page in pdf.pages:
            marked: list[str] = []  # the open marked-content sequences
            marking = False
            for operands, operator in pikepdf.parse_content_stream(page):
                op = str(operator)
                if op in ("BMC", "BDC"):
                    marked.append(str(operands[0]))
                elif op == "EMC":
                    marked.pop()
                elif op == "CS" and str(operands[0]) == "/BookletAll":
                    marking = True
                    assert marked[-1:] == ["/Artifact"], "a printer's mark is not an artifact"
            assert marking


@pytest.mark.parametrize("fmt", ["press", "press-x1a"])
def test_no_rgb_or_lab_colour(built, fmt):
    data = built[fmt].read_bytes()
    assert press.rgb_operators(data) == []
    with pikepdf.open(built[fmt]) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and "/ColorSpace" in obj:
                spaces = obj.ColorSpace
                if isinstance(spaces, pikepdf.Dictionary):
                    for space in spaces.values():
                        kind = str(space[0]) if isinstance(space, pikepdf.Array) else str(space)
                        assert kind not in ("/Lab", "/DeviceRGB", "/CalRGB"), kind


def test_output_intent_is_the_configured_profile(built, project_with_profile):
    profile = (project_with_profile / "assets" / "shop.icc").read_bytes()
    for path in built.values():
        with pikepdf.open(path) as pdf:
            intent = pdf.Root.OutputIntents[0]
            assert intent.S == "/GTS_PDFX"
            assert str(intent.OutputCondition) == "Test shop, coated paper"
            assert intent.DestOutputProfile.read_bytes() == profile


def test_cover_band_is_one_filled_shape(built):
    with pikepdf.open(built["press"]) as pdf:
        cover = pdf.pages[0]
        patterns = cover.Resources.get("/Pattern", {})
        assert not [p for p in dict(patterns).values() if int(p.get("/PatternType", 0)) == 1]


@pytest.mark.skipif(not HAVE_DEFAULT_PROFILE, reason="libgs-common not installed")
def test_default_profile_without_configuration(tmp_path):
    result = build_edition(FIXTURE, Edition("en", "press"), tmp_path)
    with pikepdf.open(result.path) as pdf:
        assert int(pdf.Root.OutputIntents[0].DestOutputProfile.N) == 4


def test_refuses_without_any_profile(tmp_path, monkeypatch):
    monkeypatch.setattr(press, "DEFAULT_PROFILES", (tmp_path / "no-such.icc",))
    with pytest.raises(BookletError, match=r"\[press\] output_profile"):
        build_edition(FIXTURE, Edition("en", "press-x1a"), tmp_path)
    assert not (tmp_path / "knee_en_press-x1a.pdf").exists()
    result = CliRunner().invoke(main, ["build", str(FIXTURE), "--lang", "en", "--format",
                                       "press", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "output intent" in result.output
    assert "Traceback" not in result.output


def test_missing_profile_file_names_the_key(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "p")
    with (tmp_path / "p" / "booklet.toml").open("a") as config:
        config.write('\n[press]\noutput_profile = "assets/gone.icc"\n')
    with pytest.raises(BookletError, match="press.output_profile"):
        load_project(tmp_path / "p")
