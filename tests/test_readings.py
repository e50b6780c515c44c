"""Pinyin readings of names from the cached table (search/lexicon/readings.py): pypinyin's own."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import pytest
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

from search.lexicon import readings
from search.lexicon.people import pinyin_name
from tests.conftest import ROOT


def pypinyin_reading(text: str) -> str:
    return "".join(lazy_pinyin(text, style=Style.NORMAL, v_to_u=True))


def test_readings_are_pypinyins():
    rng = random.Random(7)
    han = [chr(code) for code in PINYIN_DICT if 0x4E00 <= code <= 0x9FFF]
    phrases = sorted(p for p in PHRASES_DICT if len(p) == 2)
    texts = rng.sample(han, 1500) + ["".join(rng.sample(han, 2)) for _ in range(3000)] + rng.sample(phrases, 2000)
    texts += ["薇薇", "长青", "乐乐", "重阳", "朝阳", "单", "曾", "行长", "长乐"]  # heteronyms: the phrase decides
    assert readings._table._connect() is not None  # the table answered, not the fallback
    for text in texts:
        assert readings.reading(text) == pypinyin_reading(text), text


def test_longer_strings_are_cut_as_pypinyin_cuts_them():
    # Phrases, beginnings of phrases and characters run together: pypinyin reads each phrase its
    # segmenter finds as that phrase (行长 in 银行长期, not 行 长), the rest a character at a time.
    rng = random.Random(11)
    han = [chr(code) for code in PINYIN_DICT if 0x4E00 <= code <= 0x9FFF]
    phrases = sorted(PHRASES_DICT)

    def part() -> str:
        r = rng.random()
        if r < 0.4:
            return rng.choice(phrases)
        if r < 0.6:
            phrase = rng.choice(phrases)
            return phrase[: rng.randint(1, len(phrase))]
        return "".join(rng.choice(han) for _ in range(rng.randint(1, 3)))

    texts = ["".join(part() for _ in range(rng.randint(2, 4))) for _ in range(4000)]
    texts += ["莫尼同", "哈莫尼同", "银行长期", "长乐长青", "重庆重阳", "朝阳朝日", "单于单"]
    assert readings._table._connect() is not None
    for text in texts:
        assert readings._read(text) == pypinyin_reading(text), text


def test_names_are_written_as_before():
    # pinyin_name's old code, verbatim but for the readings
    surnames = {"郝": "Hao", "欧阳": "Ouyang", "欧": "Ou", "单": "Shan", "李": "Li"}

    def old(name: str) -> str | None:
        if name[:2] in surnames and len(name) > 2:
            family, given = surnames[name[:2]], name[2:]
        elif name[:1] in surnames:
            family, given = surnames[name[:1]], name[1:]
        else:
            family, given = lazy_pinyin(name[:1], style=Style.NORMAL, v_to_u=True)[0].capitalize(), name[1:]
        given_py = "".join(lazy_pinyin(given, style=Style.NORMAL, v_to_u=True)).replace("ü", "u")
        family = family.replace("ü", "u")
        return f"{family} {given_py.capitalize()}" if given_py else family

    for name in ["郝薇薇", "欧阳修", "单雄信", "李长青", "吕乐", "女娲", "律师", "绿绿", "张三丰", "李"]:
        assert pinyin_name(name, surnames) == old(name), name


@pytest.mark.parametrize("folder", ["cache", "cache a#b?c"])  # a URI would cut the path at # or ?
def test_a_run_reading_names_from_the_table_does_not_import_pypinyin(tmp_path, folder):
    env = {**os.environ, "SEARCH_CACHE_DIR": str(tmp_path / folder)}
    code = "import sys; from search.lexicon.readings import reading; r = reading('长青'), reading('莫尼同'); print(*r, 'pypinyin' in sys.modules)"
    first = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["changqing", "monitong", "True"]  # built the table with pypinyin
    again = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert again.stdout.split() == ["changqing", "monitong", "False"]


def test_without_a_writable_cache_pypinyin_answers(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    env = {**os.environ, "SEARCH_CACHE_DIR": str(blocked / "cache")}
    code = "from search.lexicon.readings import reading; print(reading('薇薇'), reading('长青乐'))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["weiwei", pypinyin_reading("长青乐")]
