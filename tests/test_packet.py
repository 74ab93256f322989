"""Tests for the review packet: the clinician's PDF, read back with pypdf."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from booklet.cli import main
from booklet.packet import number_order_changes, table_figures
from booklet.project import load_project

from conftest import normalize

FIXTURE = Path(__file__).resolve().parent / "projects" / "clinic"


@pytest.fixture(scope="module")
def spanish_packet(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("packet")
    result = CliRunner().invoke(main, ["review", "packet", str(FIXTURE), "--lang", "es",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert path.is_file() and path.parent == out
    return normalize(" ".join(p.extract_text() or "" for p in PdfReader(path).pages))


def test_packet_lists_every_table_figure_with_its_source(spanish_packet):
    figures = table_figures(load_project(FIXTURE))
    assert figures
    for figure in figures:
        assert figure.value in spanish_packet
        assert figure.source in spanish_packet


def test_packet_carries_the_review_notes(spanish_packet):
    for note in load_project(FIXTURE).review_notes:
        assert note in spanish_packet


def test_packet_lists_the_reordered_numbers(spanish_packet):
    changes = number_order_changes(load_project(FIXTURE), "es")
    assert [c.where.split(":")[0] for c in changes] == ["chapters/01-at-home.md"]
    assert changes[0].english_numbers != changes[0].translated_numbers
    assert "Numbers the translation moved" in spanish_packet
    assert "5 · 1 · 15 · 2" in spanish_packet and "2 · 15 · 1 · 5" in spanish_packet


def test_packet_has_content_and_sign_off(spanish_packet):
    assert "Sus primeros días en casa" in spanish_packet  # the content, in Spanish
    assert "Sign-off" in spanish_packet and "booklet approve" in spanish_packet


def test_packet_refuses_an_unknown_language(tmp_path):
    result = CliRunner().invoke(main, ["review", "packet", str(FIXTURE), "--lang", "fr",
                                       "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "error: --lang 'fr'" in result.output and "languages" in result.output
