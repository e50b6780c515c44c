"""Highlight a whole text for display (the article page), given the query string.

The search results carry snippets; an article opened from a result shows its
full text with the same words marked. The query goes through the same parser
and planner as a search, so 习近平 marks 習近平 and ``cooperating`` marks
``cooperation``. Everything is escaped; only ``<mark>`` is added.

>>> terms, phrases = highlight_terms("习近平")
>>> paragraphs_html("國家主席習近平在喀山。\\n\\n普京 <表示>", terms, phrases)
['國家主席<mark>習近平</mark>在喀山。', '普京 &lt;表示&gt;']
"""

from __future__ import annotations

import re

from search.highlight import Snippet, match_ranges, to_html
from search.query.build import plan
from search.query.parse import parse

_PARAGRAPHS = re.compile(r"\s*\n\s*")


def highlight_terms(query: str | None, *, translate: bool = False) -> tuple[set[str], list[list[str]]]:
    """The analyzed terms and phrases a query string would highlight (negated words excluded).

    With ``translate``, also the query's translations (as a search with ``translate=true`` finds them).

    >>> sorted(highlight_terms('習近平 -Putin "一帶一路"')[0])
    ['习近平']
    >>> highlight_terms('習近平 -Putin "一帶一路"')[1]
    [['一带', '一路']]
    >>> 'putin' in highlight_terms("普京", translate=True)[0]
    True
    """
    if not query or not query.strip():
        return set(), []
    the_plan = plan(parse(query), query, translate=translate)
    return set(the_plan.highlight), [list(p) for p in the_plan.phrases]


def paragraphs(text: str | None) -> list[str]:
    r"""Split a stored text into its non-empty paragraphs: one per line, except in hard-wrapped
    wire text (Reuters: lines of at most 80 characters, a paragraph starting with an indented
    line or after a blank line), whose lines are joined back into paragraphs.

    >>> paragraphs("Showers continued throughout the week in\nthe Bahia cocoa zone, alleviating the drought.\n"
    ...            "    The dry period means the temporao will be\nlate this year.")
    ['Showers continued throughout the week in the Bahia cocoa zone, alleviating the drought.', 'The dry period means the temporao will be late this year.']
    >>> paragraphs("第一段。\n第二段。")
    ['第一段。', '第二段。']
    """
    if not text:
        return []
    lines = text.strip().splitlines()
    if _hard_wrapped(lines):
        out: list[list[str]] = [[]]
        for line in lines:
            if not line.strip() or line[:1].isspace():
                out.append([])
            if line.strip():
                out[-1].append(line.strip())
        return [_join(group) for group in out if group]
    return [p for p in _PARAGRAPHS.split(text.strip()) if p]


#: Wire services wrapped their lines at about 70 characters; an article's own line breaks are longer.
_WRAP_WIDTH = 80


def _hard_wrapped(lines: list[str]) -> bool:
    """Whether ``lines`` are a hard-wrapped text: several lines, none long, most of them full,
    and mostly Latin (Chinese text is never wrapped this way)."""
    full = [line for line in lines if line.strip()]
    if len(full) < 3 or any(len(line) > _WRAP_WIDTH for line in full):
        return False
    text = "".join(full)
    latin = sum(ch.isascii() for ch in text)
    long_enough = sum(len(line.strip()) >= 40 for line in full)
    return latin >= 0.9 * len(text) and long_enough >= 0.5 * len(full)


def _join(group: list[str]) -> str:
    return " ".join(group)


def paragraphs_html(text: str | None, terms: set[str], phrases: list[list[str]] = ()) -> list[str]:
    """Each paragraph of ``text`` as escaped HTML with the matches wrapped in ``<mark>``."""
    out = []
    for para in paragraphs(text):
        marks = match_ranges(para, terms, phrases) if (terms or phrases) else []
        out.append(to_html(Snippet(para, marks)))
    return out


__all__ = ["highlight_terms", "paragraphs", "paragraphs_html"]
