"""Error-tolerant forms of names, dates and phones, before they are keyed.

Exact tokens (:mod:`node.tokens`) only meet when two agencies wrote an
identifier the same way after normalisation. The functions here give the
*variants* under which two spellings of the same thing still meet:

* :func:`phonetic_codes`: how a name sounds, by two codes: Metaphone (English
  spelling rules, via ``jellyfish``) and :func:`spanish_key` (Spanish spelling
  rules: ``v``/``b``, ``z``/``s``/soft ``c``, silent ``h``, ``ll``/``y``,
  ``j``/soft ``g``/``x``, ``qu``/``k``). Input is already folded to ASCII by
  :func:`node.normalize.fold_text`, so accents never matter.
* :func:`canonical_names`: the canonical given names a name may be short for
  (``"mo"`` -> ``maurice``, ``mohammed``...), from the ``nicknames`` package
  (English) plus :data:`EXTRA_NICKNAMES` (Spanish, Arabic and other
  hypocorisms and transliterations the package lacks).
* :func:`dob_unordered` and :func:`phone_masks`: a birth date with day and
  month as an unordered pair (``03/04`` meets ``04/03``), and a phone number
  with each digit masked in turn (one mistyped digit leaves one mask equal).

All functions are pure and memoised; every result is a plain string that is
MACed before it leaves this module's caller.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Final

import jellyfish
from nicknames import NickNamer

__all__ = [
    "EXTRA_NICKNAMES",
    "canonical_names",
    "dob_unordered",
    "family_words",
    "phone_masks",
    "phonetic_codes",
    "spanish_key",
]

_CACHE_SIZE: Final = 1 << 16

#: Nicknames and spelling variants the ``nicknames`` package (English only)
#: does not know, as canonical name -> short forms or variants. Every entry is
#: a common, well-attested form; the canonical side is folded ASCII.
EXTRA_NICKNAMES: Final[dict[str, tuple[str, ...]]] = {
    # Spanish hypocorisms
    "jose": ("pepe", "chepe", "pepito"),
    "francisco": ("paco", "pancho", "curro", "kiko", "frank"),
    "guadalupe": ("lupe", "lupita"),
    "jesus": ("chuy", "chucho"),
    "ignacio": ("nacho",),
    "rosario": ("chayo", "charo"),
    "concepcion": ("concha", "conchita", "chita"),
    "dolores": ("lola", "lolita"),
    "alejandro": ("alex", "alejo", "jano"),
    "alejandra": ("alex", "ale", "jana"),
    "gabriela": ("gaby", "gabi"),
    "fernando": ("nando",),
    "enrique": ("quique", "kike"),
    "manuel": ("manolo", "manny", "lolo"),
    "antonio": ("tono", "tony", "toni"),
    "eduardo": ("lalo",),
    "guillermo": ("memo",),
    "roberto": ("beto",),
    "alberto": ("beto",),
    "jazmin": ("jazzy", "jaz", "jasmine", "yasmin", "yasmine", "jasmin"),
    "maria": ("mari", "marita"),
    "mercedes": ("meche",),
    "ricardo": ("rico",),
    "rafael": ("rafa",),
    "ximena": ("jimena",),
    "javier": ("xavier",),
    # Arabic given names and their common transliterations
    "muhammad": ("mohammed", "mohamed", "mohammad", "muhammed", "mo", "moe", "hamoudi"),
    "mohammed": ("mo", "moe"),
    "yusuf": ("joe", "youssef", "yousef", "yousuf", "joseph"),
    "ibrahim": ("abe", "ebrahim"),
    "mustafa": ("moustafa", "mostafa"),
    "hassan": ("hasan",),
    "hussein": ("husain", "hussain"),
    "omar": ("umar",),
    "aisha": ("ayesha", "aysha"),
    "fatima": ("fatma", "fatimah"),
    "layla": ("leila", "laila"),
    "zainab": ("zaynab", "zeinab"),
    "khalid": ("khaled",),
    "yasmin": ("yasmine", "jasmine"),
    "hamza": ("hamzah",),
    # Others
    "maurice": ("mo", "moe", "mory"),
    "dmitri": ("dima", "dmitry", "dimitri"),
    "natalia": ("natasha", "natalya"),
    "sergei": ("sergey", "seryozha"),
    "oluwaseun": ("seun",),
    "chinedu": ("chi",),
    "marcus": ("marc", "mark"),
    "ngozi": ("ngo",),
}

@functools.lru_cache(maxsize=1)
def _namer() -> NickNamer:
    """The nickname tables: the package's, merged with :data:`EXTRA_NICKNAMES`."""
    lookup = {k: set(v) for k, v in NickNamer.default_lookup().items()}
    for canonical, short in EXTRA_NICKNAMES.items():
        lookup.setdefault(canonical, set()).update(short)
    return NickNamer(nickname_lookup=lookup)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def canonical_names(given: str) -> frozenset[str]:
    """The name itself and every canonical name it may be a nickname of.

    ``given`` is one folded word (``"bill"``). Two given names agree as
    nicknames when their canonical sets intersect: ``"bill"`` and
    ``"william"`` share ``william``; ``"mo"`` and ``"maurice"`` share
    ``maurice``. Returns ``frozenset()`` for ``""``.
    """
    if not given:
        return frozenset()
    return frozenset({given, *_namer().canonicals_of(given)})


# --------------------------------------------------------------------------
# Phonetic codes
# --------------------------------------------------------------------------

_LETTERS_RE: Final = re.compile(r"[^a-z]")
# Applied in order; each is (pattern, replacement). Soft g and c before e/i
# are resolved before the "gu"/"qu" digraphs lose their u.
_SPANISH_RULES: Final = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"ch", "0"),          # keep "ch" apart from "c" and "h"
        (r"ll", "y"),
        (r"g(?=[ei])", "j"),   # soft g sounds like j: Gimenez / Jimenez
        (r"gu(?=[ei])", "g"),  # hard g written gu: Guillermo
        (r"qu", "k"),
        (r"c(?=[ei])", "s"),   # seseo: Cesar / Sesar
        (r"z", "s"),
        (r"c", "k"),
        (r"x", "j"),           # Ximena / Jimena, Xavier / Javier
        (r"h", ""),            # silent
        (r"v", "b"),
        (r"w", "u"),
        (r"y(?![aeiou])", "i"),  # y as a vowel: Ruy, Reyes' final y
        (r"y", "i"),
        (r"ph", "f"),
        (r"(.)\1+", r"\1"),    # doubled letters: rr, nn, ss
    )
)  # fmt: skip


@functools.lru_cache(maxsize=_CACHE_SIZE)
def spanish_key(word: str) -> str:
    """A phonetic key of ``word`` by Spanish spelling rules.

    ``"vasquez"`` and ``"vazquez"`` both give ``"baskes"``; in general two
    spellings a Spanish speaker pronounces the same give the same key: ``b``/``v``,
    ``s``/``z``/soft ``c``, silent ``h``, ``ll``/``y``/``i``, ``j``/soft
    ``g``/``x``, ``qu``/``k``/hard ``c``. A final ``e`` after a consonant is
    dropped, so ``jasmine`` and ``jazmin`` both give ``"jasmin"``. Vowels are
    kept, since Spanish spells them as it says them.
    """
    text = _LETTERS_RE.sub("", word)
    for pattern, repl in _SPANISH_RULES:
        text = pattern.sub(repl, text)
    if len(text) > 3 and text.endswith("e") and text[-2] not in "aeiou":
        text = text[:-1]
    return text


@functools.lru_cache(maxsize=_CACHE_SIZE)
def phonetic_codes(word: str) -> tuple[str, ...]:
    """The phonetic codes of one folded word, tagged by algorithm.

    ``("m:JSMN", "s:jasmin")`` for ``"jazmin"``: Metaphone (English rules)
    and :func:`spanish_key`. Words of fewer than two letters have none.
    """
    letters = _LETTERS_RE.sub("", word)
    if len(letters) < 2:
        return ()
    codes = []
    if meta := jellyfish.metaphone(letters):
        codes.append(f"m:{meta}")
    if key := spanish_key(letters):
        codes.append(f"s:{key}")
    return tuple(codes)


#: Family-name particles that carry no identity on their own.
_PARTICLE_WORDS: Final = frozenset(
    {"de", "del", "della", "la", "las", "los", "da", "das", "do", "dos", "di", "du", "van",
     "der", "den", "von", "le", "st", "saint", "bin", "bint", "ibn", "al", "el", "y", "e"}
)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def family_words(family: str) -> tuple[str, ...]:
    """The words of a folded family name that identify, particles left out.

    ``"de la cruz"`` -> ``("cruz",)``; ``"garcia marquez"`` -> ``("garcia",
    "marquez")``; ``"al sayed"`` -> ``("sayed",)``. A name made only of
    particles keeps its words.
    """
    words = tuple(w for w in family.split() if w)
    kept = tuple(w for w in words if w not in _PARTICLE_WORDS)
    return kept or words


# --------------------------------------------------------------------------
# Dates and phones
# --------------------------------------------------------------------------


def dob_unordered(dob: dt.date) -> str:
    """``"1999|03|04"`` for both 1999-03-04 and 1999-04-03."""
    low, high = sorted((dob.month, dob.day))
    return f"{dob.year:04d}|{low:02d}|{high:02d}"


@functools.lru_cache(maxsize=_CACHE_SIZE)
def phone_masks(e164: str, digits: int = 10) -> tuple[str, ...]:
    """An E.164 number with each of its last ``digits`` digits masked in turn.

    ``"+15035550142"`` -> ``("+1?035550142", "+15?35550142", ...)``. Two
    numbers that differ in exactly one of those digits share exactly one mask;
    equal numbers share all of them.
    """
    start = max(1, len(e164) - digits)
    return tuple(e164[:i] + "?" + e164[i + 1 :] for i in range(start, len(e164)))
