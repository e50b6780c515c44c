"""Article text for display: paragraphs (wire text rebuilt from hard-wrapped lines)."""

from __future__ import annotations

from search.analysis.convert import convert_display
from search.render import paragraphs, paragraphs_html
from tests.dailydata import WIRE_BODY


def test_hard_wrapped_wire_text_becomes_paragraphs():
    found = paragraphs(WIRE_BODY)
    assert len(found) == 3
    assert found[0].startswith("Showers continued throughout the week in the Bahia cocoa zone, alleviating")
    assert found[2].endswith("at the same stage last year.")
    assert paragraphs_html(WIRE_BODY, {"cocoa"})[0].count("<mark>cocoa</mark>") == 1


def test_line_per_paragraph_texts_are_left_alone():
    assert paragraphs("第一段。\n\n第二段，很长的一段话。\n第三段。") == ["第一段。", "第二段，很长的一段话。", "第三段。"]
    long_lines = "A paragraph that is one long line of text, as most articles store it, well over eighty characters.\nNext."
    assert paragraphs(long_lines) == long_lines.split("\n")
    table = "Wheat      1.2    1.3\nMaize      2.2    2.5\nSoybeans   3.0    3.1\n"
    assert paragraphs(table) == ["Wheat      1.2    1.3", "Maize      2.2    2.5", "Soybeans   3.0    3.1"]


def test_traditional_display_uses_taiwan_forms():
    assert convert_display("为了着力，这里", "hant") == "為了著力，這裡"
    assert convert_display("為了", "hans") == "为了"  # simplified and as-published are unchanged
