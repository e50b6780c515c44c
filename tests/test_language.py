"""Which language a piece of text is in (search/ingest/language.py)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from search.ingest.language import language_of


def _by_letters(text: str) -> str | None:
    """The rule stated: a Han character weighs three Latin letters; no letters, no language."""
    han = len(re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    if not han and not latin:
        return None
    return "zh" if han * 3 >= latin else "en"


@given(st.text(alphabet=st.sampled_from(list("ab Z9,.\n-") + list("普京中国é€ß"))))
@settings(max_examples=400, deadline=None)
def test_language_follows_the_letters_rule(text):
    assert language_of(text) == _by_letters(text)


def test_ascii_text_is_english_when_it_has_letters():
    assert language_of("Oil prices rose 3 pct.") == "en"
    assert language_of("12,000 - 3.5 %") is None
    assert language_of("Xi 习近平") == "zh"
