"""Significant words of a text, for the shared-words rule."""

from __future__ import annotations

import re
from functools import lru_cache

from matchmaker.listings.search import STOPWORDS

# Words too common in this domain to say anything about two listings.
DOMAIN_STOPWORDS = frozenset(
    [
        "social",
        "economy",
        "solidarity",
        "sse",
        "local",
        "partners",
        "partner",
        "organisation",
        "organisations",
        "people",
        "city",
        "region",
        "support",
        "work",
        "working",
        "network",
        "project",
        "projects",
        "also",
        "more",
        "new",
        "offer",
        "offers",
        "need",
        "needs",
        "help",
        "other",
        "which",
        "into",
        "through",
        "would",
        "could",
        "should",
        "them",
        "their",
        "there",
        "these",
        "those",
        "such",
        "where",
        "when",
        "then",
        "than",
        "over",
        "under",
        "between",
        "within",
        "across",
    ]
)
IGNORED = STOPWORDS | DOMAIN_STOPWORDS
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ers", "ed", "es", "s")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately light stemmer: 'evaluation', 'evaluating' and 'evaluate' meet at 'evalu'."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word.rstrip("e") if len(word) > 5 else word


_WORD = re.compile(r"[^\W\d_]{4,}")


def significant_words(text: str) -> frozenset[str]:
    return frozenset(map(stem, set(_WORD.findall(text.lower())) - IGNORED))
