"""What counts as a word, in each language a listing may be written in.

One analysis for the matcher's shared-words rule and for the similar listings shown while
someone writes: the text is cut into words of four letters or more, the language's stop words
(stopwords-iso) and the words every SSE listing uses are dropped, and each word is reduced to
its Snowball stem in that language (PyStemmer), so that "policy" and "policies", "politique" and
"politiques", "κοινωνική" and "κοινωνικής" meet. The original words are kept beside their stems,
so that people read whole words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache

import Stemmer
import stopwordsiso
from flask_babel import lazy_gettext as _l

from matchmaker.core.errors import DomainError
from matchmaker.core.i18n import gettext as _

# ISO 639-1 code → the name a person picks it by.
LANGUAGES = {
    "en": _l("English"),
    "fr": _l("French"),
    "es": _l("Spanish"),
    "pt": _l("Portuguese"),
    "it": _l("Italian"),
    "ca": _l("Catalan"),
    "el": _l("Greek"),
    "ar": _l("Arabic"),
}
DEFAULT_LANGUAGE = "en"
SNOWBALL = {
    "en": "english",
    "fr": "french",
    "es": "spanish",
    "pt": "portuguese",
    "it": "italian",
    "ca": "catalan",
    "el": "greek",
    "ar": "arabic",
}
# Words too common in this domain to say anything about two listings, in each language.
DOMAIN_STOPWORDS = {
    "en": """social economy solidarity local partners partner organisation organisations
        people city region support work working network project projects also offer offers
        need needs help
        illustrative""",  # the demo's mark on the organisations it invents (matchmaker/demo)
    "fr": """économie sociale social solidaire solidarité locale local partenaires partenaire
        organisation organisations ville région soutien réseau projet projets offre besoin""",
    "es": """economía social solidaria solidaridad local socios socio organización
        organizaciones ciudad región apoyo trabajo proyecto proyectos oferta necesidad""",
    "pt": """economia social solidária solidariedade local parceiros parceiro organização
        organizações cidade região apoio trabalho rede projeto projetos oferta necessidade""",
    "it": """economia sociale solidale solidarietà locale partner organizzazione
        organizzazioni città regione sostegno lavoro rete progetto progetti offerta bisogno""",
    "ca": """economia social solidària solidaritat local socis organització organitzacions
        ciutat regió suport treball xarxa projecte projectes oferta necessitat""",
    "el": """κοινωνική κοινωνικής κοινωνικές οικονομία οικονομίας αλληλέγγυα αλληλεγγύης
        τοπική τοπικής εταίροι οργάνωση οργανώσεις πόλη περιφέρεια υποστήριξη δίκτυο έργο""",
    "ar": """الاقتصاد الاجتماعي التضامني الاجتماعية التضامنية المحلية الشركاء المنظمة
        المنظمات المدينة الجهة الدعم الشبكة المشروع المشاريع""",
}
_WORD = re.compile(r"[^\W\d_]{4,}")


def language_or_default(language: str | None) -> str:
    return language if language in SNOWBALL else DEFAULT_LANGUAGE


def check_language(language: str) -> str:
    """``language`` if it is one of LANGUAGES (what a listing or an organisation is written in),
    else a DomainError on the field ``language``."""
    if language not in LANGUAGES:
        raise DomainError(_("Choose one of the languages offered."), "language")
    return language


@cache
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(SNOWBALL[language])


@lru_cache(maxsize=65536)
def _plain(word: str) -> str:
    """``word`` without accents, and with the Greek final sigma written as a plain sigma:
    stop-word lists differ in how they write them (stopwords-iso's Greek list has no accents)."""
    decomposed = unicodedata.normalize("NFD", word.replace("ς", "σ"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def stop_words(language: str) -> frozenset[str]:
    """The language's stop words and this domain's, as :func:`_plain` writes them."""
    words = [*stopwordsiso.stopwords(language), *DOMAIN_STOPWORDS.get(language, "").split()]
    return frozenset(map(_plain, words))


def analyse(text: str, language: str | None = None) -> dict[str, str]:
    """The significant words of ``text``: each stem, with the first word (alphabetically, in
    lower case) that gave it, as the text writes it (:func:`_as_written`)."""
    language = language_or_default(language)
    ignored = stop_words(language)
    words = sorted(w for w in set(_WORD.findall(text.lower())) if _plain(w) not in ignored)
    written = _as_written(text, SENTENCE_ENDS.get(language, SENTENCE_END))
    found: dict[str, str] = {}
    for stem, word in zip(_stemmer(language).stemWords(words), words, strict=True):
        found.setdefault(stem, written.get(word, word))
    return found


# The marks that end a sentence (or a line), and a language's own: Greek asks its questions
# with ";" (or U+037E, the Greek question mark, which looks the same).
SENTENCE_END = ".!?\n؟…"
SENTENCE_ENDS = {"el": SENTENCE_END + ";\u037e"}


def _as_written(text: str, ends: str = SENTENCE_END) -> dict[str, str]:
    """Each word of ``text`` in lower case → how the text writes it where it does not start a
    sentence (one ended by a mark of ``ends``): in lower case wherever it does so once, else as
    it first appears there (a name: "Athens", "UNESCO"). A word met only at the start of a
    sentence (or of the text: a title) is left out, and stays in lower case."""
    written: dict[str, str] = {}
    for match in _WORD.finditer(text):
        word = match.group()
        lower = word.lower()
        if word == lower:
            written[word] = word
        elif lower not in written and not _starts_a_sentence(text, match.start(), ends):
            written[lower] = word
    return written


def _starts_a_sentence(text: str, start: int, ends: str = SENTENCE_END) -> bool:
    """Whether the word at ``start`` begins the text, a line or a sentence (looking back past a
    few spaces, quotes and opening marks only), or an item of a list (past the dash, bullet or
    asterisk that starts its line)."""
    window = max(0, start - 12)
    before = text[window:start].rstrip(" \t\"'“‘«(¿¡-–—•*·")
    if not before:
        return window == 0
    return before[-1] in ends


# What ``listings.match_words`` holds: the stems, space-separated, then a tab, then the whole
# word each stem came from, in the same order (explanations show whole words).


def listing_words(title: str, description: str, language: str | None = None) -> str:
    """What ``listings.match_words`` holds for a listing. Changing the analysis means
    recomputing that column (``flask --app wsgi match reindex``)."""
    words = analyse(f"{title}\n{description}", language)  # the description starts a line
    return f"{' '.join(words)}\t{' '.join(words.values())}"


def organisation_words(name: str, description: str, language: str | None) -> dict[str, str]:
    """:func:`analyse` of an organisation's own text, its name and then its description (each
    starting a line): what the matcher reads of it beside its listings."""
    return analyse(f"{name}\n{description}", language)


# What the search index holds (listings.search_title and search_body, indexed by SQLite's FTS5
# and PostgreSQL's 'simple' configuration): every word, lower-case and without accents, each
# followed by its Snowball stem in the listing's language where the stem differs. A searched
# word is looked for as itself (and as the start of a longer word, while someone types) and as
# its stem in each language, since nobody says which language they search in.
_TOKEN = re.compile(r"[^\W_]+")


def search_words(text: str, language: str | None = None) -> str:
    """What the search index holds for ``text``, written in ``language``."""
    words = _TOKEN.findall(text.lower())
    indexed: list[str] = []
    for word, stem in zip(
        words, _stemmer(language_or_default(language)).stemWords(words), strict=True
    ):
        plain, plain_stem = _plain(word), _plain(stem)
        indexed.append(plain)
        if plain_stem != plain:
            indexed.append(plain_stem)
    return " ".join(indexed)


def search_forms(word: str) -> tuple[str, list[str]]:
    """A searched word as the index writes it, and its stems in every language (those that
    differ from it)."""
    lower = word.lower()
    plain = _plain(lower)
    stems = {_plain(_stemmer(language).stemWord(lower)) for language in SNOWBALL}
    return plain, sorted(stem for stem in stems if stem and stem != plain)


def stems(stored: str) -> list[str]:
    """The stems of a stored ``match_words``."""
    return stored.partition("\t")[0].split()


def whole_words(stored: str) -> dict[str, str]:
    """Stem → the whole word it came from, of a stored ``match_words``."""
    stem_part, _, word_part = stored.partition("\t")
    return dict(zip(stem_part.split(), word_part.split(), strict=False))


def whole_words_of(stored: str, wanted: Iterable[str]) -> list[str]:
    """The whole word each of ``wanted`` (stems) came from, of a stored ``match_words``, or
    the stem itself where there is none: ``whole_words(stored).get(stem, stem)`` for each,
    without a dictionary of all of a listing's words for the few an explanation shows (a full
    run asks it for tens of thousands of proposals)."""
    stem_part, _, word_part = stored.partition("\t")
    all_stems, words = stem_part.split(), word_part.split()
    found = []
    for stem in wanted:
        place = all_stems.index(stem) if stem in all_stems else len(words)
        found.append(words[place] if place < len(words) else stem)
    return found
