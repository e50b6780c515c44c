"""Speakers: who is quoted in an article (placeholder resolution until extraction lands)."""

from __future__ import annotations


def resolve_alias(name: str) -> list[str]:
    """Canonical ids for a name typed by a user."""
    return []
