"""Typo tolerance: edits allowed by length, nearest terms, the word shown."""

from __future__ import annotations

from search.query.spelling import allowed_edits, best, correctable, nearest, surface, vocabulary_list


def test_edits_allowed_grow_with_the_word():
    assert [allowed_edits(w) for w in ("Xi", "trad", "Putin", "ukriane", "Kazakstan", "agreements")] == [0, 0, 1, 1, 2, 2]
    assert correctable("Pution") and not correctable("Putn") and not correctable("北溪北溪北溪") and not correctable("G20s1")


def test_nearest_counts_a_swap_of_neighbours_as_one_edit():
    vocabulary = vocabulary_list(["ukrain", "ukrainian", "urban", "putin", "1987", "北溪"])
    assert vocabulary == ["putin", "ukrain", "ukrainian", "urban"]
    assert nearest("ukrian", vocabulary, 1) == {"ukrain": 1}
    assert nearest("pution", vocabulary, 1) == {"putin": 1}
    assert nearest("putin", vocabulary, 1) == {}  # the term itself is no correction
    assert nearest("pytion", vocabulary, 1) == {} and nearest("pytion", vocabulary, 2) == {"putin": 2}


def test_the_nearest_held_term_wins_then_the_most_frequent():
    assert best({"govern": 1, "movement": 2}, {"govern": 5, "movement": 900}) == "govern"
    assert best({"presid": 1, "presidnet": 1}, {"presid": 4000, "presidnet": 2}) == "presid"
    assert best({"putin": 1}, {"putin": 0}) is None


def test_the_word_shown_keeps_what_was_typed_around_the_stem():
    assert surface("ukriane", "ukrian", "ukrain") == "ukraine"
    assert surface("Pution", "pution", "putin") == "Putin"
    assert surface("PUTION", "pution", "putin") == "PUTIN"
    assert surface("goverments", "gover", "govern") == "governments"  # the ending typed, when it stems back
    assert surface("colour", "colour", "color") == "color"  # else the term itself
