"""English lookup keys (search/lexicon/keys.py): British spellings fold to American."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.lexicon import keys


def by_the_rules(word: str) -> str:
    """``american`` without its shortcut: every rule tried in turn."""
    if word in keys._SPELLING_WORDS:
        return keys._SPELLING_WORDS[word]
    for pattern, repl in keys._SPELLING_RULES:
        new = pattern.sub(repl, word)
        if new != word:
            return new
    return word


@pytest.mark.parametrize(
    "british, american",
    [
        ("organisation", "organization"), ("organisational", "organizational"), ("analysed", "analyzed"),
        ("colour", "color"), ("favourites", "favorites"), ("honourable", "honorable"), ("centre", "center"),
        ("fibres", "fibers"), ("catalogue", "catalog"), ("travelled", "traveled"), ("defence", "defense"),
        # unchanged: too short before the ending, or no rule's ending
        ("rise", "rise"), ("four", "four"), ("tour", "tour"), ("acre", "acre"), ("tell", "tell"), ("market", "market"),
    ],
)
def test_british_spellings_fold(british, american):
    assert keys.american(british) == american


ENDINGS = [end for end in keys._SPELLING_ENDS] + ["e", "s", "ed", "ing", "er", "re", "ll", "ours", "logue", "yze", "ize", ""]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abcdeilnorstuy", min_size=0, max_size=7), st.sampled_from(ENDINGS))
def test_the_ending_check_skips_only_words_no_rule_changes(stem, ending):
    word = stem + ending
    assert keys.american(word) == by_the_rules(word)
