"""Bilingual lexical data: people's names across scripts and languages, dictionaries.

Data files live beside the code; everything loads lazily, once per process.
"""
