"""Code-section lists as data (resources/lists/*.csv): super strikes, PC 290, related charges.

One entry per section (and subsection) with the law that puts it on the list and a one-line
description. Columns (``citation``, ``requires`` and ``text`` may be absent or blank):

- ``code``, ``section``, ``subsection``: matched on the whole section number (237 is not 37,
  1203.4 is not 203); an entry's subsection matches that subsection and any deeper one
  (``(a)`` matches ``(a)(1)``); an entry without subsection matches every subsection;
- ``attempts``: ``no``, ``attempt`` (PC 664 counts too) or ``attempt+conspiracy`` (PC 664 or
  PC 182); ``yes`` is read as ``attempt+conspiracy``;
- ``requires``: another code section that must be found with it, on the same count (in the
  charge text or comment) or as a conviction in the same arrest cycle, e.g. the gang
  enhancement ``PC 186.22(b)(4)``;
- ``text``: a regular expression the charge text must contain (case-insensitive); with a
  leading ``!`` it must not contain it (PC 220 "except assault to commit mayhem");
- ``citation``: the statute that puts the offense on the list; ``description``: one line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import polars as pl

from ..errors import InputError
from ..safety import resource_path

ATTEMPTS = {"no": (), "": (), "attempt": ("attempt",), "attempt+conspiracy": ("attempt", "conspiracy"),
            "yes": ("attempt", "conspiracy")}
_SECTION_RE = re.compile(r"^\d{1,6}(?:\.\d{1,3})?[a-z]{0,2}$")
_SUB_RE = re.compile(r"^(?:\([a-z0-9]{1,3}\))*$")
_CODE_RE = re.compile(r"^\s*([A-Za-z&]+)\s*(\d+(?:\.\d+)?[A-Za-z]{0,2})\s*((?:\([A-Za-z0-9]+\))*)\s*$")
REQUIRED_COLUMNS = ("code", "section", "subsection", "attempts", "description")
OPTIONAL_COLUMNS = ("requires", "text", "citation")


@dataclass(frozen=True)
class Entry:
    code: str
    section: str
    subsection: str = ""
    attempts: str = "no"
    requires: str = ""          # canonical code section, e.g. "PC 186.22(b)(4)"
    text: str = ""              # regex on the charge text; "!" prefix = must not match
    citation: str = ""
    description: str = ""
    line: int = 0               # line in the list file (0 = added by a profile)

    @property
    def code_section(self) -> str:
        return f"{self.code} {self.section}{self.subsection}"

    def condition(self) -> str:
        """The entry's extra conditions in plain words ("" when there are none)."""
        parts = []
        if ATTEMPTS[self.attempts]:
            parts.append("attempts count" if self.attempts == "attempt" else "attempts and conspiracies count")
        if self.requires:
            parts.append(f"only with {self.requires} on the same count or in the same arrest cycle")
        if self.text.startswith("!"):
            parts.append(f"not when the charge text says {self.text[1:]}")
        elif self.text:
            parts.append(f"only when the charge text says {self.text}")
        return "; ".join(parts)


@dataclass(frozen=True)
class SectionList:
    name: str
    path: str                       # where to read it (shown to users)
    entries: tuple[Entry, ...]

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def frame(self) -> pl.DataFrame:
        """The list for display: code section, description, citation, conditions."""
        return pl.DataFrame({
            "code_section": [e.code_section for e in self.entries],
            "description": [e.description for e in self.entries],
            "citation": [e.citation for e in self.entries],
            "conditions": [e.condition() for e in self.entries],
        }, schema={c: pl.String for c in ("code_section", "description", "citation", "conditions")})

    def requirements(self) -> list[str]:
        return sorted({e.requires for e in self.entries if e.requires})

    def edited(self, add: tuple[str, ...] = (), remove: tuple[str, ...] = (), where: str = "") -> "SectionList":
        """The list with entries added or removed by a profile (canonical code sections)."""
        if not add and not remove:
            return self
        entries = list(self.entries)
        for text in remove:
            code, section, sub = parse_code_section(text, where)
            kept = [e for e in entries if (e.code, e.section, e.subsection) != (code, section, sub)]
            if len(kept) == len(entries):
                raise InputError(f"{where}: cannot remove {text!r} from list {self.name!r}: it has no such entry")
            entries = kept
        for text in add:
            code, section, sub = parse_code_section(text, where)
            entries.append(Entry(code, section, sub, attempts="no", citation=f"added by the profile ({where})",
                                 description="added by the profile"))
        return replace(self, entries=tuple(entries), path=f"{self.path} as edited by {where}")


def parse_code_section(text: str, where: str) -> tuple[str, str, str]:
    m = _CODE_RE.match(text) if isinstance(text, str) else None
    if not m:
        raise InputError(f"{where}: {text!r} is not a code section such as \"PC 653f(b)\"")
    return m.group(1).upper().replace("&", ""), m.group(2).lower(), m.group(3).lower()


def _canonical(text: str, where: str) -> str:
    code, section, sub = parse_code_section(text, where)
    return f"{code} {section}{sub}"


def parse_list(text: str, name: str, path: str) -> SectionList:
    """Read a list file's text; every problem names the file and line."""
    fname = Path(path).name
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputError(f"{fname}: the list is empty (expected a header line)") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{fname}: line 1: missing column(s) {', '.join(missing)}")
    entries = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise InputError(f"{fname}: line {line}: {len(values)} fields, the header has {len(header)}")
        row = {h: v.strip() for h, v in zip(header, values)}
        where = f"{fname}: line {line}"
        code = row["code"].upper()
        section = row["section"].lower()
        sub = row["subsection"].lower().replace(" ", "")
        attempts = row["attempts"].lower()
        if not re.fullmatch(r"[A-Z]{2,3}", code):
            raise InputError(f"{where}: code {row['code']!r} is not a law code such as PC or HS")
        if not _SECTION_RE.match(section):
            raise InputError(f"{where}: section {row['section']!r} is not a section number such as 653f or 288.5")
        if not _SUB_RE.match(sub):
            raise InputError(f"{where}: subsection {row['subsection']!r} is not written like (a)(1)")
        if attempts not in ATTEMPTS:
            raise InputError(f"{where}: attempts must be no, attempt or attempt+conspiracy, not {row['attempts']!r}")
        requires = _canonical(row["requires"], where) if row.get("requires") else ""
        pattern = row.get("text", "")
        if pattern:
            try:
                re.compile(pattern.lstrip("!"))
            except re.error as e:
                raise InputError(f"{where}: text {pattern!r} is not a valid pattern ({e})") from None
        if not row["description"]:
            raise InputError(f"{where}: every entry needs a one-line description")
        entries.append(Entry(code, section, sub, "attempt+conspiracy" if attempts == "yes" else (attempts or "no"),
                             requires, pattern, row.get("citation", ""), row["description"], line))
    return SectionList(name, path, tuple(entries))


@lru_cache(maxsize=16)
def load_list(name: str) -> SectionList:
    path = resource_path(f"lists/{name}.csv")
    if not re.fullmatch(r"[a-z0-9][a-z0-9\-]*", name or "") or not path.exists():
        raise InputError(f"no code-section list named {name!r} (looked for resources/lists/{name}.csv)")
    return parse_list(path.read_text(encoding="utf-8-sig"), name, str(path))


def requirement_column(requires: str) -> str:
    return "req__" + re.sub(r"[^a-z0-9]+", "_", requires.lower()).strip("_")


def requirement_exprs(requires: str) -> tuple[pl.Expr, pl.Expr]:
    """(this row is a conviction of ``requires``, this row's charge text or comment names it)."""
    code, section, sub = parse_code_section(requires, "requires")
    is_row = (pl.col("law_code") == code) & (pl.col("section_num") == section)
    if sub:
        is_row = is_row & pl.col("section_sub").fill_null("").str.starts_with(sub)
    # 186.22(B)(4) written with optional spaces, in any case, not part of a longer number
    num = re.escape(section.upper()).replace(r"\.", r"\s*\.\s*")
    subs = "".join(rf"\s*\(\s*{re.escape(p.upper())}\s*\)" for p in re.findall(r"\(([a-z0-9]+)\)", sub))
    pattern = rf"(?:^|[^0-9.]){num}{subs}"
    text = pl.concat_str([pl.col("offence_text").fill_null(""), pl.col("comment").fill_null("")], separator=" ")
    return is_row.fill_null(False), text.str.to_uppercase().str.contains(pattern).fill_null(False)


def add_requirements(conv: pl.DataFrame, lists: list[SectionList]) -> pl.DataFrame:
    """One boolean column per ``requires`` value: on the same count, or a conviction of it in
    the same arrest cycle of the same person."""
    for req in sorted({r for lst in lists for r in lst.requirements()}):
        col = requirement_column(req)
        if col in conv.columns:
            continue
        is_row, named = requirement_exprs(req)
        conv = conv.with_columns(
            (named | is_row.any().over("subject_id", "cycle")).fill_null(False).alias(col))
    return conv


def _entry_expr(e: Entry) -> pl.Expr:
    expr = (pl.col("law_code") == e.code) & (pl.col("section_num") == e.section)
    if e.subsection:
        expr = expr & pl.col("section_sub").fill_null("").str.starts_with(e.subsection)
    allowed = ATTEMPTS[e.attempts]
    expr = expr & (pl.col("qualifier").is_null() | pl.col("qualifier").is_in(list(allowed)) if allowed
                   else pl.col("qualifier").is_null())
    if e.requires:
        expr = expr & pl.col(requirement_column(e.requires))
    if e.text:
        hit = pl.col("offence_text").fill_null("").str.contains("(?i)" + e.text.lstrip("!"))
        expr = expr & (~hit if e.text.startswith("!") else hit)
    return expr


def in_list(lst: SectionList) -> pl.Expr:
    """Row matches a list entry (see the module docstring). Rows need ``law_code``,
    ``section_num``, ``section_sub``, ``qualifier``, ``offence_text`` and, for entries with
    ``requires``, the columns of ``add_requirements``."""
    exprs = [_entry_expr(e) for e in lst.entries]
    return pl.any_horizontal(exprs).fill_null(False) if exprs else pl.lit(False)


def section_only(lst: SectionList) -> pl.Expr:
    """Row has the section of an entry that names a subsection, but no subsection recorded
    (e.g. "653f" when only 653f(b) is listed): it may or may not be on the list."""
    pairs = sorted({(e.code, e.section) for e in lst.entries if e.subsection}
                   - {(e.code, e.section) for e in lst.entries if not e.subsection})
    if not pairs:
        return pl.lit(False)
    exprs = [(pl.col("law_code") == c) & (pl.col("section_num") == s) for c, s in pairs]
    return (pl.any_horizontal(exprs) & pl.col("section_sub").is_null()).fill_null(False)
