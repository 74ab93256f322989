"""Quantities and structure of a translation (booklet/quantities.py).

Unit words are asked from Babel (CLDR), never written into the test, so a
new CLDR release does not break it.
"""

from __future__ import annotations

import pytest
from babel.units import format_unit

from booklet.quantities import quantities, quantity_problems, reordered, structure_problems


def unit(value: int, name: str, language: str) -> str:
    """How CLDR writes value in unit name in this language ("5 semanas")."""
    return format_unit(value, name, length="long", locale=language.replace("-", "_"))


def test_kinds_come_from_cldr():
    for name, kind in (("duration-year", "year"), ("duration-week", "week"),
                       ("duration-day", "day"), ("mass-milligram", "mg")):
        for language in ("en", "es", "ar"):
            written = unit(5, name, language)
            if name in written:
                continue  # Babel has no pattern for this plural form: nothing to ask
            found = quantities(f"x {written} x", language)
            assert [q.kind for q in found] == [kind], (language, name, found)


def test_swapped_percent_and_years_is_an_error():
    english = f"73% at {unit(5, 'duration-year', 'en')}"
    swapped = f"5% a los {unit(73, 'duration-year', 'es')}"
    assert any("became" in p for p in quantity_problems(english, swapped, "es"))
    same = f"73 % a los {unit(5, 'duration-year', 'es')}"
    assert quantity_problems(english, same, "es") == []


def test_swapped_tablets_and_times_is_an_error():
    problems = quantity_problems("Take 2 tablets 3 times a day",
                                 "Tome 3 tabletas 2 veces al día", "es")
    assert problems and all("became" in p for p in problems)
    assert quantity_problems("Take 2 tablets 3 times a day",
                             "Tome 2 tabletas 3 veces al día", "es") == []


def test_changed_unit_is_an_error():
    english = f"for {unit(5, 'duration-year', 'en')}"
    weeks = f"durante {unit(5, 'duration-week', 'es')}"
    assert any("week" in p for p in quantity_problems(english, weeks, "es"))


def test_dropped_percent_sign_is_an_error():
    assert quantity_problems("30-40% of people", "30-40 de las personas", "es")
    assert quantity_problems("30-40% of people", "30-40% de las personas", "es") == []


@pytest.mark.parametrize("translation", ["<50% de personas, >20% de", "≤5% de personas, >20% de",
                                         "5% de personas, >20% de"])
def test_comparison_signs_are_part_of_the_quantity(translation: str):
    assert quantity_problems("<5% of people, >20% of", translation, "es")


def test_text_between_less_and_greater_than_is_not_markup():
    assert [q.comparison for q in quantities("<5% of people, >20% of", "en")] == ["<", ">"]


def test_digits_of_other_scripts_count_as_their_values():
    english = f"73% at {unit(5, 'duration-year', 'en')}"
    arabic = f"٧٣٪ بعد {unit(5, 'duration-year', 'ar')}".replace("5", "٥")
    assert quantity_problems(english, arabic, "ar") == []


def test_reordered_bare_numbers_are_listed_not_errors():
    english, translation = "between 1 and 3 times", "entre 3 y 1 veces"
    assert quantity_problems(english, translation, "es") == []
    assert reordered(english, translation, "es")
    assert not reordered(english, "entre 1 y 3 veces", "es")


def test_structure_cannot_change():
    source = "Call 911 if you have chest pain."
    assert structure_problems(source, "Llame al 911 si tiene dolor en el pecho.") == []
    assert structure_problems(source, "Llame al 911. {: .draft-mark }")
    assert structure_problems(source, "Llame al 911 <https://evil.example>.")
    assert structure_problems("## What is it?", "### ¿Qué es?")
    assert structure_problems('<span class="x">a</span>', '<span class="y">a</span>')


def test_digits_of_a_script_the_language_does_not_use_are_flagged():
    from booklet.quantities import foreign_digits

    assert foreign_digits("٧٣٪", "es")
    assert foreign_digits("73%", "es") == []


def test_a_count_written_as_a_word_needs_its_exception():
    english = "A transplant happens in 2 main steps:"
    dual = "تتم الزراعة في خطوتين رئيسيتين:"  # fixture text: "in two steps", as a dual
    assert any("2" in p for p in quantity_problems(english, dual, "ar"))
    assert quantity_problems(english, dual, "ar", as_words=("2",)) == []


def test_the_exception_never_excuses_a_percent_a_dose_or_a_stale_number():
    english = "73% of people"
    assert quantity_problems(english, "la mayoría de las personas", "es", as_words=("73",))
    dose = "Take 5 mg"
    assert quantity_problems(dose, "Tome cinco mg", "es", as_words=("5",))
    stale = quantity_problems("Rest well.", "Descanse.", "es", as_words=("2",))
    assert any("number-as-word 2" in p for p in stale)
