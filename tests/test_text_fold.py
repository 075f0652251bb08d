"""The one text normaliser (catalog.text.fold_text) and its named variants."""

from __future__ import annotations

from catalog.text import fold_text, fold_text_with_map, normalize_name, normalize_title


def test_spellings_of_one_thing_meet() -> None:
    assert fold_text("Amélie") == fold_text("Ame\u0301lie") == "amelie"  # composed or decomposed
    assert fold_text("Schindler’s List") == fold_text("Schindler's List") == "schindler s list"
    assert fold_text("Spider‐Man") == fold_text("Spider-Man") == "spider man"  # U+2010 hyphen
    assert fold_text("Stille nach dem Schuß") == "stille nach dem schuss"
    assert fold_text("Dumb & Dumber") == "dumb and dumber"
    assert fold_text("  Hello,  WORLD!", lower=False) == "Hello WORLD"


def test_named_variants_differ_only_by_their_option() -> None:
    assert normalize_title("The Godfather: Part II (1974)") == "godfather part 2 1974"
    assert normalize_title("Alien") == fold_text("Alien")
    assert normalize_name("Dan O’Bannon") == normalize_name("Dan O'Bannon") == "dan obannon"
    assert fold_text("Dan O'Bannon") == "dan o bannon"


def test_map_points_back_into_the_source() -> None:
    text = "  Amélie & Nino!"
    folded, index = fold_text_with_map(text)
    assert folded == fold_text(text) == "amelie and nino"
    assert len(index) == len(folded)
    start = folded.index("nino")
    assert text[index[start]:index[start + 3] + 1] == "Nino"
