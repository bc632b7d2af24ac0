"""Comparable forms of names, dates of birth and court case numbers, and name similarity.

Names: letters only, upper case, accents dropped; apostrophes and periods vanish (O'BRIEN ->
OBRIEN), every other mark separates words (GARCIA-LOPEZ -> GARCIA LOPEZ). Words of one letter
are initials. ``name_similarity`` pairs the words of two names whatever their order, lets two
or three adjacent words stand for one (DE LA CRUZ ~ DELACRUZ), and scores the pairs with the
optimal-string-alignment edit distance of rapidfuzz (a swap of two neighbouring letters is one
edit), so one typo in a 15-letter name still scores about 0.93.

Court case numbers: ``case_keys`` gives two keys. The first keeps the letters in the middle
(98F01234, 98-F-1234, SAC98F01234 and 1998F01234 all read 98F-1234): a leading courthouse
prefix is dropped, a four-digit year becomes two digits and numbers lose their leading zeros.
The second keeps only the year and the number (98-1234), for numbers written without their
case-type letters. Both are only ever compared within one candidate pair of people, so two
different people's cases sharing a number cannot link on it alone.
"""

from __future__ import annotations

import re
import unicodedata

import polars as pl
from rapidfuzz.distance import OSA

_DROP = re.compile(r"['`\u2019.]")
_NON_LETTERS = re.compile(r"[^A-Z]+")
SUFFIXES = frozenset({"JR", "SR", "II", "III", "IV"})


def name_words(name: str | None) -> list[str]:
    """Upper-case words of a name in their order, suffixes (JR, III) dropped."""
    if not name:
        return []
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").upper()
    words = _NON_LETTERS.sub(" ", _DROP.sub("", text)).split()
    return [w for w in words if w not in SUFFIXES]


def _items(full: list[str]) -> list[tuple[str, frozenset[int]]]:
    items = [(w, frozenset((i,))) for i, w in enumerate(full)]
    for span in (2, 3):
        items += [("".join(full[i:i + span]), frozenset(range(i, i + span))) for i in range(len(full) - span + 1)]
    return items


def name_similarity(a: str | None, b: str | None) -> float:
    """0..1: how alike two names are, whatever the order of their words.

    Words (and runs of two or three adjacent words) are paired greedily, best first; a pair
    must be at least half alike. The score is one minus the edit distance of the paired words
    over their length. A word left over on one side only (a middle name the other record
    leaves out) costs nothing; words left over on both sides count as a mismatch, and
    initials that contradict the other side's leftover word cost one letter.
    """
    wa, wb = name_words(a), name_words(b)
    fa, fb = [w for w in wa if len(w) > 1], [w for w in wb if len(w) > 1]
    if not fa or not fb:
        return 0.0
    if sorted(fa) == sorted(fb):
        sim = 1.0
        ia, ib = [w for w in wa if len(w) == 1], [w for w in wb if len(w) == 1]
        if ia and ib and ia[0] != ib[0]:
            sim = 1.0 - 1.0 / (sum(map(len, fa)) + 1)
        return sim
    pairs = []
    for x, xs in _items(fa):
        for y, ys in _items(fb):
            longest = max(len(x), len(y))
            d = OSA.distance(x, y, score_cutoff=longest // 2)
            if d <= longest // 2:
                pairs.append((d / longest, -longest, x, y, xs, ys, d, longest))
    pairs.sort(key=lambda p: (p[0], p[1], p[2], p[3]))
    used_a: set[int] = set()
    used_b: set[int] = set()
    dist = total = 0
    for _, _, _, _, xs, ys, d, longest in pairs:
        if xs & used_a or ys & used_b:
            continue
        used_a |= xs
        used_b |= ys
        dist += d
        total += longest
    if not total:
        return 0.0
    left_a = [w for i, w in enumerate(fa) if i not in used_a]
    left_b = [w for i, w in enumerate(fb) if i not in used_b]
    if left_a and left_b:  # e.g. JOHN against JAMES: a different given name
        worst = max(len(left_a[0]), len(left_b[0]))
        dist += worst
        total += worst
    # initials against the other side's leftover words or initials
    ia = [w for w in wa if len(w) == 1] + [w[0] for w in left_a]
    ib = [w for w in wb if len(w) == 1] + [w[0] for w in left_b]
    if ia and ib and not (set(ia) & set(ib)):
        dist += 1
        total += 1
    sim = 1.0 - dist / total
    if len(fa) == 1 or len(fb) == 1:
        sim *= 0.9  # a single word says less about who it is
    return max(0.0, sim)


def name_key(expr: pl.Expr) -> pl.Expr:
    """The name's words of two letters or more, sorted and joined: equal for the same words in
    any order (polars; mirrors ``name_words``)."""
    words = (expr.str.to_uppercase().str.replace_all(r"['`\u2019.]", "").str.replace_all(r"[^A-Z]+", " ")
             .str.strip_chars().str.split(" "))
    return (words.list.eval(pl.element().filter((pl.element().str.len_chars() > 1)
                                                & ~pl.element().is_in(list(SUFFIXES))))
            .list.sort().list.join(" "))


def name_prefixes(key: pl.Expr) -> pl.Expr:
    """The first three letters of each word of a ``name_key`` (a list): the blocking key."""
    return key.str.split(" ").list.eval(pl.element().str.slice(0, 3)).list.unique()


def swapped_dob(dob: pl.Expr) -> pl.Expr:
    """The date with day and month exchanged, where that is another valid date."""
    day, month = dob.dt.day(), dob.dt.month()
    return (pl.when((day <= 12) & (day != month))
            .then(pl.date(dob.dt.year(), day, month)).otherwise(None))


def case_keys(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(full key, year-and-number key) of a court case number; null when there is no number."""
    s = (expr.str.to_uppercase()
         .str.replace_all(r"([A-Z])(\d)", "$1 $2").str.replace_all(r"(\d)([A-Z])", "$1 $2")
         .str.replace_all(r"[^A-Z0-9]+", " ").str.strip_chars())
    s = s.str.replace(r"^[A-Z][A-Z ]*? (\d)", "$1")  # a courthouse prefix before the year
    parts = s.str.extract_groups(r"^(\d+)(?: ([A-Z]+))?((?: \d+)+)(?: (.*))?$")
    year = parts.struct.field("1")
    year = pl.when((year.str.len_chars() == 4) & year.str.contains(r"^(?:19|20)")).then(year.str.slice(2)).otherwise(year)
    letters = parts.struct.field("2").fill_null("")
    number = (parts.struct.field("3").str.strip_chars().str.replace_all(r"(^| )0+(\d)", "$1$2")
              .str.replace_all(" ", "-"))
    rest = parts.struct.field("4").fill_null("").str.replace_all(" ", "")
    structured = parts.struct.field("1").is_not_null()
    full = pl.when(structured).then(pl.concat_str([year, letters, pl.lit("-"), number, rest]))
    # one run of digits (9801234): keep it whole without leading zeros
    single = s.str.replace_all(" ", "").str.replace(r"^0+(\d)", "$1")
    digits_only = s.str.contains(r"^\d+$")
    run = s.str.replace(r"^0+(\d)", "$1")
    full = full.when(s.is_not_null() & (s != "")).then(single).otherwise(None)
    short = (pl.when(structured).then(pl.concat_str([year, pl.lit("-"), number]))
             .when(digits_only & (run.str.len_chars() >= 5))
             .then(pl.concat_str([run.str.slice(0, 2), pl.lit("-"), run.str.slice(2).str.replace(r"^0+(\d)", "$1")]))
             .otherwise(None))
    return full, short
