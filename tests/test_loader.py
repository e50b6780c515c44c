"""Reading JSON Lines in parts (search/ingest/loader.py)."""

from __future__ import annotations

import json

from search.ingest.loader import FIRST_PART_LINES, PART_LINES, load_file, load_parts


def _jsonl(path, count: int) -> str:
    lines = [json.dumps({"id": f"a{i}", "title": f"Report {i}", "body": f"Grain harvest report number {i}."}) for i in range(count)]
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return str(path)


def test_parts_start_small_and_double_up_to_the_part_size(tmp_path):
    """The first articles are handed over after a few records, not after a whole part."""
    path = _jsonl(tmp_path / "a.jsonl", 600)
    sizes = [len(part.articles) for part in load_parts(path)]
    assert sizes[0] == FIRST_PART_LINES
    assert all(b == min(2 * a, PART_LINES) for a, b in zip(sizes[:-2], sizes[1:-1]))
    assert max(sizes) == PART_LINES and sum(sizes) == 600


def test_the_parts_together_are_the_whole_file(tmp_path):
    path = _jsonl(tmp_path / "a.jsonl", 300)
    whole = load_file(path)
    parted = [item for part in load_parts(path, lines_per_part=7) for item in part.articles]
    assert [(where, a.id) for where, a in parted] == [(where, a.id) for where, a in whole.articles]
    assert [len(part.articles) for part in load_parts(path, lines_per_part=7)][:3] == [7, 7, 7]
