"""How a place name is compared: one key for every way of writing it.

"Αθήνα" and "ΑΘΗΝΑ", "São Paulo" and "sao-paulo", "طنجة" with or without its vowel marks each
give one key. The gazetteer's table (matchmaker/places/gazetteer.tsv.gz) is written with these
keys, so a change here means deriving the table again (scripts/derive_gazetteer.py).
"""

from __future__ import annotations

import unicodedata

# Letters that mean the same in a place name but are written differently: Arabic alif maqsura
# and ya, ta marbuta and ha (Tanja, طنجة / طنجه), the Persian forms of kaf and ya.
_SAME_LETTER = str.maketrans({"ى": "ي", "ة": "ه", "ک": "ك", "ی": "ي", "ـ": None})
# Punctuation that separates words in names: Saint-Étienne, L'Aquila, Al-Hoceima.
_SEPARATORS = str.maketrans({char: " " for char in "-‐‑–—'’`´.,()/"})


def name_key(text: str) -> str:
    """The comparison key of a place name: case, accents, vowel marks, hyphens and extra
    spaces do not count."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.translate(_SAME_LETTER).translate(_SEPARATORS).split())


def place_key(text: str) -> str:
    """A place as written, compared without its case or extra spaces ("Île-de-France" and
    "ÎLE-DE-FRANCE " are one; "Ile de France" is another): how the matcher tells regions and
    cities apart where the gazetteer did not find them, and what organisations store as their
    region's key (``organisations.region_folded``: a change here means a migration that folds
    the stored regions again)."""
    return " ".join(text.casefold().split())
