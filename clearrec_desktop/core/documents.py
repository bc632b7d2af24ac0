"""Court documents on California pleading paper (CRC 2.100-2.119), built with reportlab.

Everything is built in memory and written only to the paths the user chose: no temporary
files of records, ever. Inputs are the screening output (results.csv + summary.json, see
docs/architecture.md), an office file (TOML) and, optionally, the attorney's decisions.

Layout facts the code relies on (checked by tests/test_documents.py with pdfplumber):
- pleading pages carry 28 numbered lines 24 pt apart; line n's baseline is
  ``TOP_BASELINE - 24 * (n - 1)``;
- a platypus paragraph's first baseline sits at its top minus the font size (12 pt), so the
  text frame's top is ``TOP_BASELINE + 12``, and every flowable in a pleading story is padded
  to whole 24 pt lines (``_Snap``) so the grid never drifts;
- "Page X of Y": each page draws a form XObject ``pn<X>`` that is only defined when the
  canvas is saved and the page count is known (one build pass, bookmarks stay correct).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import tomllib
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence
from xml.sax.saxutils import escape

import polars as pl
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from .errors import InputError
from .safety import local_path

__all__ = [
    "MOTION_TITLE",
    "RESULTS_COLUMNS",
    "Office",
    "Selection",
    "load_office",
    "select_for_filing",
    "build_packet",
    "build_per_case",
    "build_challenge_notice",
    "build_cover_report",
    "court_update_rows",
    "write_court_update",
    "build_documents",
]

MOTION_TITLE = (
    "PEOPLE'S MOTION TO DISMISS AND SEAL, OR REDESIGNATE, CANNABIS CONVICTIONS "
    "(Health & Saf. Code, §§ 11361.8, 11361.9)"
)
ORDER_TITLE = (
    "[PROPOSED] ORDER ON PEOPLE'S MOTION TO DISMISS AND SEAL, OR REDESIGNATE, CANNABIS "
    "CONVICTIONS (Health & Saf. Code, §§ 11361.8, 11361.9)"
)
PER_CASE_TITLE = "PEOPLE'S MOTION AND [PROPOSED] ORDER FOR RELIEF (Health & Saf. Code, § 11361.8)"
CHALLENGE_TITLE = (
    "PEOPLE'S NOTICE OF CHALLENGE TO RELIEF UNDER HEALTH AND SAFETY CODE SECTION 11361.8 "
    "(Health & Saf. Code, § 11361.9)"
)
PROOF_TITLE = "PROOF OF SERVICE"

RESULTS_COLUMNS = (
    "conviction_id", "source_file", "source_line", "subject_id", "cii_number", "name", "dob",
    "gender", "race", "court_case_number", "courthouse", "county", "conviction_date",
    "conviction_date_quality", "cycle_date", "count_key", "code_section",
    "code_section_original", "qualifier", "level", "age_at_offence", "age_at_conviction",
    "sentence_end", "outcome", "relief", "relief_track", "reasons", "rules", "citations",
    "evidence", "flags",
)
DECISIONS = ("accept", "dismiss", "reduce", "challenge", "defer")
GROUNDS = {
    "not_eligible": "Not eligible (HS 11361.8)",
    "public_safety": "Risk to public safety (HS 11361.9)",
}
# Exhibit A parts, in filing order: key -> (part label, relief column text).
GROUP_COUNTS = {"dismiss_and_seal": "to dismiss and seal", "redesignate_misdemeanor": "to redesignate as misdemeanors",
                "redesignate_infraction": "to redesignate as infractions", "resentence": "to resentence"}
GROUPS = {
    "dismiss_and_seal": ("Dismiss and seal (HS 11361.8(f))", "Dismiss and seal"),
    "redesignate_misdemeanor": ("Redesignate as misdemeanor (HS 11361.8(f))", "Redesignate: misdemeanor"),
    "redesignate_infraction": ("Redesignate as infraction (HS 11361.8(f))", "Redesignate: infraction"),
    "resentence": ("Recall and resentence (HS 11361.8(b))", "Resentence"),
}
OFFICE_KEYS = ("district_attorney", "state_bar_number", "office", "address", "phone", "email",
               "court", "county")
OFFICE_OPTIONAL = ("public_defender", "attorney_for", "deputy")

# --------------------------------------------------------------------------- the office


@dataclass
class Office:
    district_attorney: str
    state_bar_number: str
    office: str
    address: str
    phone: str
    email: str
    court: str
    county: str
    public_defender: str | None = None
    attorney_for: str = "The People of the State of California"
    deputy: str | None = None  # the responsible deputy DA who signs the declaration

    def __post_init__(self) -> None:
        if not self.public_defender:
            self.public_defender = f"Public Defender of {_county_name(self.county)} County"

    @property
    def signer(self) -> str:
        return self.deputy or self.district_attorney

    @property
    def signer_role(self) -> str:
        return "Deputy District Attorney" if self.deputy else "District Attorney"

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]


def load_office(path: Path) -> Office:
    """Read the office file (TOML, top-level keys or an ``[office]`` table)."""
    path = local_path(path, what="office file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: cannot read the office file ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path.name}: not a valid TOML office file ({exc})") from None
    if isinstance(data.get("office"), dict):
        data = data["office"]
    values: dict[str, str] = {}
    for key in OFFICE_KEYS + OFFICE_OPTIONAL:
        value = data.get(key)
        if value is None:
            if key in OFFICE_KEYS:
                raise InputError(f"{path.name}: office file is missing the key '{key}'")
            continue
        if isinstance(value, list) and key == "address":
            value = "\n".join(str(v) for v in value)
        if isinstance(value, int) and key == "state_bar_number":
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{path.name}: office key '{key}' must be non-empty text")
        values[key] = value.strip()
    return Office(**values)


def _county_name(county: str) -> str:
    text = " ".join(county.split())
    if text.upper().endswith(" COUNTY"):
        text = text[: -len(" COUNTY")]
    return text.title()


# --------------------------------------------------------------------------- selection


@dataclass
class Selection:
    """What goes to the court. Every results row is in exactly one of the three frames.

    Added columns: ``primary_name`` and ``aka`` (other names of the same subject_id),
    ``decided_by`` (engine / attorney), ``decision``; granted rows have ``group`` (a GROUPS
    key), ``filing_relief`` and ``basis``; challenged rows ``ground`` and ``ground_reason``;
    left-out rows ``left_out_kind`` (review / defer / unresolved) and ``left_out_reason``.
    """

    granted: pl.DataFrame
    challenged: pl.DataFrame
    left_out: pl.DataFrame
    total: int = 0

    @property
    def courthouses(self) -> list[str]:
        names = set(self.granted["courthouse"].to_list()) | set(self.challenged["courthouse"].to_list())
        return sorted(names)

    def for_courthouse(self, courthouse: str) -> "Selection":
        def pick(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.filter(pl.col("courthouse") == courthouse)
        return Selection(pick(self.granted), pick(self.challenged), pick(self.left_out),
                         total=self.total)


def _as_text_frame(results: pl.DataFrame, what: str) -> pl.DataFrame:
    missing = [c for c in RESULTS_COLUMNS if c not in results.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)}")
    # Only the contract's columns travel on: nothing else (an SSN, say) can reach a document.
    return results.select(
        [pl.col(c).cast(pl.String).fill_null("").str.strip_chars().alias(c) for c in RESULTS_COLUMNS]
    )


def _read_decisions(decisions: pl.DataFrame) -> pl.DataFrame:
    if "conviction_id" not in decisions.columns or "decision" not in decisions.columns:
        raise InputError("decisions: need the columns conviction_id and decision")
    cols = [pl.col(c).cast(pl.String).fill_null("").str.strip_chars() for c in ("conviction_id", "decision")]
    for optional in ("ground", "reason", "relief"):
        if optional in decisions.columns:
            cols.append(pl.col(optional).cast(pl.String).fill_null("").str.strip_chars())
        else:
            cols.append(pl.lit("").alias(optional))
    frame = decisions.select(cols).with_columns(pl.col("decision").str.to_lowercase(),
                                                pl.col("ground").str.to_lowercase())
    bad = sorted(set(frame["decision"].to_list()) - set(DECISIONS))
    if bad:
        raise InputError(f"decisions: unknown decision value(s) {', '.join(map(repr, bad))}; "
                         f"use {', '.join(DECISIONS)}")
    # The workspace appends decisions; the last one for a conviction is the one in force.
    return frame.unique(subset="conviction_id", keep="last", maintain_order=True)


def select_for_filing(results: pl.DataFrame, decisions: pl.DataFrame | None = None) -> Selection:
    """Split screened convictions into granted (Exhibit A), challenged (Exhibit B) and left out.

    Without decisions the engine outcome is the decision: dismiss / reduce are granted,
    ineligible is challenged on the ground ``not_eligible``, review is left out. With a
    decisions frame, a conviction's last decision replaces its engine outcome (``accept``
    keeps the engine outcome); convictions without a decision keep the engine outcome.
    """
    res = _as_text_frame(results, "results")
    if res["conviction_id"].is_duplicated().any():
        raise InputError("results: conviction_id values are not unique")
    res = res.join(_names(res), on="subject_id", how="left")

    if decisions is None:
        dec = pl.DataFrame({c: [] for c in ("conviction_id", "decision", "ground", "reason", "relief")},
                           schema={c: pl.String for c in ("conviction_id", "decision", "ground", "reason", "relief")})
    else:
        dec = _read_decisions(decisions)
        unknown = dec.join(res.select("conviction_id"), on="conviction_id", how="anti")
        if unknown.height:
            raise InputError(f"decisions: {unknown.height} decision(s) refer to convictions that are "
                             f"not in these results (a different screening run?)")
        bad_ground = dec.filter((pl.col("decision") == "challenge") & ~pl.col("ground").is_in(list(GROUNDS)))
        if bad_ground.height:
            raise InputError(f"decisions: {bad_ground.height} challenge(s) without a valid ground "
                             f"({' or '.join(GROUNDS)})")
    dec = dec.rename({"ground": "d_ground", "reason": "d_reason", "relief": "d_relief"})
    df = res.join(dec, on="conviction_id", how="left").with_columns(
        pl.col("decision", "d_ground", "d_reason", "d_relief").fill_null(""))

    engine = (pl.when(pl.col("outcome") == "dismiss").then(pl.lit("dismiss"))
              .when(pl.col("outcome") == "reduce").then(pl.lit("reduce"))
              .when(pl.col("outcome") == "ineligible").then(pl.lit("challenge"))
              .otherwise(pl.lit("review")))
    by_attorney = ~pl.col("decision").is_in(["", "accept"])
    df = df.with_columns(
        engine.alias("_engine"),
        pl.when(by_attorney).then(pl.col("decision")).otherwise(engine).alias("_eff"),
        pl.when(by_attorney).then(pl.lit("attorney")).otherwise(pl.lit("engine")).alias("decided_by"),
    )
    # What a reduction reduces to: an explicit decision relief, else the engine's, else one
    # level down from the conviction level.
    reduce_to = (
        pl.when(pl.col("d_relief").str.starts_with("reduce_to_")).then(pl.col("d_relief"))
        .when(pl.col("relief").str.starts_with("reduce_to_")).then(pl.col("relief"))
        .when(pl.col("level") == "F").then(pl.lit("reduce_to_misdemeanor"))
        .when(pl.col("level") == "M").then(pl.lit("reduce_to_infraction"))
        .otherwise(pl.lit(""))
    )
    df = df.with_columns(
        pl.when(pl.col("_eff") == "dismiss").then(pl.lit("dismiss_and_seal"))
        .when(pl.col("_eff") == "reduce").then(reduce_to)
        .otherwise(pl.lit("")).alias("filing_relief"))
    granted_mask = pl.col("_eff").is_in(["dismiss", "reduce"]) & (pl.col("filing_relief") != "")
    challenged_mask = pl.col("_eff") == "challenge"

    granted = df.filter(granted_mask).with_columns(
        pl.when(pl.col("filing_relief") == "dismiss_and_seal").then(pl.lit("dismiss_and_seal"))
        .when(pl.col("relief_track") == "petition").then(pl.lit("resentence"))
        .when(pl.col("filing_relief") == "reduce_to_infraction").then(pl.lit("redesignate_infraction"))
        .otherwise(pl.lit("redesignate_misdemeanor")).alias("group"),
        # An attorney who overrode the engine is the basis; one who agreed keeps its citations.
        pl.when(pl.col("_eff") != pl.col("_engine"))
        .then(pl.lit("HS 11361.8 (attorney review)"))
        .otherwise(pl.col("citations").str.replace_all(r"\s*\|\s*", "; "))
        .alias("basis"),
    )
    challenged = df.filter(challenged_mask).with_columns(
        pl.when(pl.col("decided_by") == "attorney").then(pl.col("d_ground"))
        .otherwise(pl.lit("not_eligible")).alias("ground"),
        pl.when((pl.col("decided_by") == "attorney") & (pl.col("d_reason") != "")).then(pl.col("d_reason"))
        .otherwise(pl.col("reasons").str.replace_all(r"\s*\|\s*", "; ")).alias("ground_reason"),
    )
    left = df.filter(~granted_mask & ~challenged_mask)
    left = left.with_columns(
        pl.when(pl.col("_eff") == "defer").then(pl.lit("defer"))
        .when(pl.col("decision") == "accept").then(pl.lit("unresolved"))
        .when(pl.col("_eff") == "review").then(pl.lit("review"))
        .otherwise(pl.lit("unresolved")).alias("left_out_kind"),
    ).with_columns(
        pl.when(pl.col("left_out_kind") == "defer")
        .then(pl.concat_str([pl.lit("Deferred by attorney"),
                             pl.when(pl.col("d_reason") != "").then(pl.lit(": ") + pl.col("d_reason")).otherwise(pl.lit(""))]))
        .when(pl.col("left_out_kind") == "review")
        .then(pl.concat_str([pl.lit("In review"),
                             pl.when(pl.col("reasons") != "").then(pl.lit(": ") + pl.col("reasons")).otherwise(pl.lit(""))]))
        .when(pl.col("decision") == "accept")
        .then(pl.lit("Decision 'accept' on a conviction still in review: decide dismiss, reduce, challenge or defer"))
        .otherwise(pl.lit("Decision 'reduce' but the conviction level is unknown or already an infraction"))
        .alias("left_out_reason"))

    keep = [c for c in df.columns if not c.startswith(("d_", "_"))]
    granted = _sort(granted.select(keep + ["group", "basis"]))
    challenged = _sort(challenged.select(keep + ["ground", "ground_reason"]))
    left = _sort(left.select(keep + ["left_out_kind", "left_out_reason"]))
    if granted.height + challenged.height + left.height != res.height:  # pragma: no cover - invariant
        raise AssertionError("selection lost rows")
    return Selection(granted, challenged, left, total=res.height)


def _names(res: pl.DataFrame) -> pl.DataFrame:
    """Per subject: the most frequent name (ties: alphabetical) and the others as AKA."""
    counts = (res.group_by("subject_id", "name").agg(pl.len().alias("_n"))
              .sort(["subject_id", "_n", "name"], descending=[False, True, False]))
    return counts.group_by("subject_id", maintain_order=True).agg(
        pl.col("name").first().alias("primary_name"),
        pl.col("name").slice(1).filter(pl.col("name").slice(1) != "").sort().str.join("; ").alias("aka"),
    )


def _sort(frame: pl.DataFrame) -> pl.DataFrame:
    order = ["courthouse", "court_case_number", "primary_name", "subject_id", "conviction_date", "count_key",
             "conviction_id"]
    if "group" in frame.columns:
        rank = {k: i for i, k in enumerate(GROUPS)}
        frame = frame.with_columns(pl.col("group").replace_strict(rank, default=len(rank)).alias("_g"))
        return frame.sort(["_g"] + order).drop("_g")
    return frame.sort(order)


# --------------------------------------------------------------------------- text helpers

_ASCII = str.maketrans({"\u2265": ">=", "\u2264": "<=", "\u2192": "->", "\u2190": "<-", "\u2260": "!=",
                        "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2212": "-"})


def _t(value: object) -> str:
    """Text the standard PDF fonts can show (cp1252); anything else becomes '?'."""
    text = "" if value is None else str(value)
    return text.translate(_ASCII).encode("cp1252", "replace").decode("cp1252")


def _x(value: object) -> str:
    """Text for paragraph markup."""
    return escape(_t(value))


def _long_date(value: date | str) -> str:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return f"{value:%B} {value.day}, {value.year}"


def _count_no(count_key: str) -> str:
    # CNT_ORDER: 3 digits cycle + 3 step + 3 count + 3 more.
    if len(count_key) == 12 and count_key.isdigit():
        return str(int(count_key[6:9]))
    return count_key


def _case_no(value: str) -> str:
    return value if value and value.upper() != "NULL" else "(none on record)"


def _n(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"


# --------------------------------------------------------------------------- page geometry

PAGE_W, PAGE_H = letter
LINE = 24.0
LINES = 28
TOP_BASELINE = 732.0                      # line 1
FRAME_TOP = TOP_BASELINE + 12             # paragraph first baseline = top - font size
FRAME_BOTTOM = FRAME_TOP - LINES * LINE   # 72: line 28's baseline is 84
TEXT_X = 108.0                            # 1.5 in: text starts right of the rules
TEXT_W = 450.0                            # right edge 558 (0.75 in margin)
NUM_RIGHT = 86.0                          # line numbers end here
RULE_LEFT = (94.0, 97.0)                  # traditional double rule
RULE_RIGHT = 566.0
PAGE_NO_Y = 54.0
FOOTER_RULE_Y = 47.0
FOOTER_Y = 37.0                           # first footer line (10 pt), second at 27
AUDIT_Y = 17.0
CLERK_SPACE_X = PAGE_W / 2                # lines 1-7 right of centre stay blank

EX_W, EX_H = landscape(letter)
EX_X, EX_TOP, EX_BOTTOM = 72.0, EX_H - 66, 72.0
EX_WIDTH = EX_W - EX_X - 36

FONT, BOLD = "Times-Roman", "Times-Bold"
BODY = ParagraphStyle("body", fontName=FONT, fontSize=12, leading=LINE, firstLineIndent=36)
PLAIN = ParagraphStyle("plain", parent=BODY, firstLineIndent=0)
HEAD = ParagraphStyle("head", parent=PLAIN, fontName=BOLD, alignment=TA_CENTER)
SUBHEAD = ParagraphStyle("subhead", parent=PLAIN, fontName=BOLD)
SINGLE = ParagraphStyle("single", parent=PLAIN, leading=12)
ITEM = ParagraphStyle("item", parent=PLAIN, leftIndent=36)
SIGN = ParagraphStyle("sign", parent=SINGLE, leftIndent=TEXT_W / 2)
CAPTION = ParagraphStyle("caption", parent=SINGLE, alignment=TA_LEFT)
REQUEST = ParagraphStyle("request", parent=SINGLE, firstLineIndent=36)
REPORT = ParagraphStyle("report", fontName=FONT, fontSize=11, leading=14, spaceAfter=6)
REPORT_HEAD = ParagraphStyle("report_head", parent=REPORT, fontName=BOLD, fontSize=13, leading=18)


class _Snap(Flowable):
    """Pads a flowable to whole 24 pt lines so whatever follows starts on the line grid.
    ``keep`` blocks (signatures, checklists) move to the next page whole instead of splitting."""

    def __init__(self, inner: Flowable, lines: int | None = None, too_long: str = "", keep: bool = False):
        super().__init__()
        self.inner, self.lines, self.too_long, self.keep = inner, lines, too_long, keep

    def wrap(self, aw, ah):
        w, h = self.inner.wrap(aw, ah)
        self._inner_h = h
        if self.lines is not None:
            if h > self.lines * LINE + 0.01:
                raise InputError(self.too_long or "text does not fit its place on the page")
            snapped = self.lines * LINE
        else:
            snapped = math.ceil(h / LINE - 1e-6) * LINE
        self.width, self.height = w, snapped
        return w, snapped

    def draw(self):
        self.inner.drawOn(self.canv, 0, self.height - self._inner_h)

    def split(self, aw, ah):
        if self.lines is not None or self.keep:
            return []
        parts = self.inner.split(aw, math.floor(ah / LINE + 1e-6) * LINE)
        return [_Snap(p) for p in parts]


class _Mark(Flowable):
    """Zero-size flowable that runs ``action(canvas, doc)`` where it lands in the story."""

    def __init__(self, action: Callable[[Canvas, "_Doc"], None]):
        super().__init__()
        self.action = action
        self.width = self.height = 0

    def wrap(self, aw, ah):
        return 0, 0

    def draw(self):
        self.action(self.canv, self.canv._doctemplate)


def _footer(title: str) -> _Mark:
    def act(canv, doc):
        doc.footer_title = title
    return _Mark(act)


def _exhibit_label(label: str) -> _Mark:
    def act(canv, doc):
        doc.exhibit_label = label
    return _Mark(act)


def _bookmark(title: str, level: int = 0) -> _Mark:
    def act(canv, doc):
        doc.bookmarks += 1
        key = f"s{doc.bookmarks}"
        canv.bookmarkPage(key)
        canv.addOutlineEntry(_t(title), key, level=level, closed=level == 0 and title.startswith("Case"))
    return _Mark(act)


def _p(text: str, style: ParagraphStyle = BODY, keep: bool | None = None) -> _Snap:
    keep = style.leading < LINE if keep is None else keep  # single-spaced blocks stay whole
    snap = _Snap(Paragraph(text.replace("§ ", "§&nbsp;"), style), keep=keep)
    if style in (HEAD, SUBHEAD):
        snap.keepWithNext = True  # no heading alone at the foot of a page
    return snap


def _parties(defendants: str, plural: bool = True) -> list[str]:
    indent = "&nbsp;" * 30
    return ["THE PEOPLE OF THE STATE OF CALIFORNIA,", f"{indent}Plaintiff,", "v.",
            f"{defendants},", f"{indent}{'Defendants' if plural else 'Defendant'}."]


def _gap(lines: int = 1) -> Spacer:
    return Spacer(1, lines * LINE)


class _Doc(BaseDocTemplate):
    """One document: pleading pages (portrait, numbered lines), exhibit pages (landscape)
    and report pages (plain), with "Page X of Y" on every page."""

    def __init__(self, buf, *, title: str, author: str, subject: str, audit_head: str | None,
                 first: str = "pleading"):
        super().__init__(buf, pagesize=letter, invariant=1, title=_t(title), author=_t(author),
                         subject=_t(subject), creator="ClearRec Desktop", producer="ClearRec Desktop",
                         leftMargin=TEXT_X, rightMargin=PAGE_W - TEXT_X - TEXT_W,
                         topMargin=PAGE_H - FRAME_TOP, bottomMargin=FRAME_BOTTOM)
        self.footer_title = ""
        self.exhibit_label = ""
        self.bookmarks = 0
        self.audit_head = audit_head
        self.page_centres: list[float] = []
        pleading = Frame(TEXT_X, FRAME_BOTTOM, TEXT_W, LINES * LINE, 0, 0, 0, 0, id="pleading")
        exhibit = Frame(EX_X, EX_BOTTOM, EX_WIDTH, EX_TOP - EX_BOTTOM, 0, 0, 0, 0, id="exhibit")
        report = Frame(72, 72, PAGE_W - 144, PAGE_H - 144, 0, 0, 0, 0, id="report")
        templates = [
            PageTemplate("pleading", [pleading], onPageEnd=self._pleading_page, pagesize=letter),
            PageTemplate("exhibit", [exhibit], onPageEnd=self._exhibit_page, pagesize=landscape(letter)),
            PageTemplate("report", [report], onPageEnd=self._report_page, pagesize=letter),
        ]
        # The first page uses the first template in the list.
        self.addPageTemplates(sorted(templates, key=lambda t: t.id != first))

    # -- page furniture -------------------------------------------------------------
    def _page_number(self, canv: Canvas, width: float) -> None:
        n = canv.getPageNumber()
        self.page_centres.append(width / 2)
        canv.saveState()
        canv.translate(0, PAGE_NO_Y)
        canv.doForm(f"pn{n}")
        canv.restoreState()

    def _pleading_page(self, canv: Canvas, doc) -> None:
        canv.saveState()
        canv.setFont(FONT, 12)
        for i in range(LINES):
            canv.drawRightString(NUM_RIGHT, TOP_BASELINE - i * LINE, str(i + 1))
        canv.setLineWidth(0.6)
        top, bottom = PAGE_H, FOOTER_RULE_Y + 3
        for x in RULE_LEFT:
            canv.line(x, top, x, bottom)
        canv.line(RULE_RIGHT, top, RULE_RIGHT, bottom)
        canv.setLineWidth(0.8)
        canv.line(RULE_LEFT[0], FOOTER_RULE_Y, RULE_RIGHT, FOOTER_RULE_Y)
        canv.setFont(FONT, 10)
        for k, line in enumerate(simpleSplit(_t(self.footer_title), FONT, 10, TEXT_W)[:2]):
            canv.drawCentredString(TEXT_X + TEXT_W / 2, FOOTER_Y - 10 * k, line)
        canv.restoreState()
        self._page_number(canv, PAGE_W)

    def _exhibit_page(self, canv: Canvas, doc) -> None:
        canv.saveState()
        canv.setFont(BOLD, 12)
        canv.drawString(EX_X, EX_H - 44, _t(self.exhibit_label))
        canv.restoreState()
        self._page_number(canv, EX_W)

    def _report_page(self, canv: Canvas, doc) -> None:
        canv.saveState()
        canv.setFont(FONT, 9)
        canv.drawString(72, PAGE_H - 44, "ClearRec Desktop - for the office only, not for filing")
        canv.restoreState()
        self._page_number(canv, PAGE_W)

    def render(self, story: list) -> None:
        doc = self

        class _Canvas(Canvas):
            # The page count is known only at save: define each page's "Page X of Y" form now.
            def save(self):
                total = len(doc.page_centres)
                for i, centre in enumerate(doc.page_centres, start=1):
                    self.beginForm(f"pn{i}", lowerx=0, lowery=-60, upperx=2 * centre, uppery=20)
                    self.setFont(FONT, 12)
                    self.drawCentredString(centre, 0, f"Page {i} of {total}")
                    if i == total and doc.audit_head:
                        self.setFont(FONT, 7)
                        self.drawCentredString(centre, AUDIT_Y - PAGE_NO_Y,
                                               _t(f"Audit chain head: {doc.audit_head}"))
                    self.endForm()
                super().save()

        self.build(story, canvasmaker=_Canvas)


def _new_page(template: str) -> list:
    """Start the next section on a new page drawn with ``template``."""
    return [NextPageTemplate(template), PageBreak()]


def _show_outline(canv, doc) -> None:
    canv.showOutline()


# --------------------------------------------------------------------------- pleading blocks


def _caption(office: Office, *, parties: Sequence[str], case_number: str, nature: str,
             extra: Sequence[str] = (), gap: bool = True) -> list:
    """First-page heading (CRC 2.111): attorney block on lines 1-7 left of centre, court
    title on line 8, then the case title left and case number / nature of paper right."""
    attorney = [
        _x(office.district_attorney.upper()),
        f"District Attorney (SBN {_x(office.state_bar_number)})",
        f"County of {_x(_county_name(office.county))}",
        _x(office.office),
        *(_x(a) for a in office.address_lines),
        f"Tel. {_x(office.phone)}",
        _x(office.email),
        f"Attorney for {_x(office.attorney_for)}",
    ]
    block = Paragraph("<br/>".join(attorney), ParagraphStyle("atty", parent=SINGLE,
                                                             rightIndent=TEXT_W - (CLERK_SPACE_X - TEXT_X) + 6))
    court = office.court.upper()
    court_lines = [court] if "COUNTY OF" in court else [court, f"COUNTY OF {_county_name(office.county).upper()}"]
    story: list = [
        _Mark(_show_outline),
        _Snap(block, lines=7, too_long="office file: the attorney block does not fit lines 1-7 of page 1"),
        _p("<br/>".join(_x(c) for c in court_lines), ParagraphStyle("court", parent=SINGLE, alignment=TA_CENTER)),
    ]
    if gap:
        story.append(_gap())
    left = Paragraph("<br/><br/>".join(parties), CAPTION)
    right_parts = [f"Case No.: {_x(case_number)}", f"<b>{_x(nature)}</b>", *extra]
    right = Paragraph("<br/><br/>".join(right_parts), CAPTION)
    half = TEXT_W / 2
    table = Table([[left, right]], colWidths=[half, half])
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 12),
        ("LEFTPADDING", (0, 0), (0, 0), 0),
        ("RIGHTPADDING", (0, 0), (0, 0), 12),
        ("LEFTPADDING", (1, 0), (1, 0), 12),
        ("RIGHTPADDING", (1, 0), (1, 0), 0),
        ("LINEAFTER", (0, 0), (0, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 0), (0, 0), 0.8, colors.black),
    ]))
    story += [_Snap(table), _gap()]
    return story


def _signature(office: Office, lead: Flowable) -> list:
    """The closing paragraph, date line and signature block, kept on one page."""
    lines = ["Respectfully submitted,", "", _x(office.district_attorney.upper()),
             f"District Attorney, County of {_x(_county_name(office.county))}", "", "",
             "By: ______________________________", _x(office.signer), _x(office.signer_role)]
    return [KeepTogether([lead, _p("Dated: ____________________", PLAIN), _p("<br/>".join(lines), SIGN)])]


def _dated_signature(right: Sequence[str]) -> _Snap:
    """"Dated: ____" on the left and a signature block on the right, single-spaced."""
    half = TEXT_W / 2
    table = Table([[Paragraph("<br/>" * (len(right) - 2) + "Dated: ____________", SINGLE),
                    Paragraph("<br/>".join(right), SINGLE)]], colWidths=[half, half])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")] + [
        (f"{side}PADDING", (0, 0), (-1, -1), 0) for side in ("TOP", "BOTTOM", "LEFT", "RIGHT")]))
    return _Snap(table, keep=True)


def _group_counts(frame: pl.DataFrame) -> dict[str, int]:
    counts = Counter(frame["group"].to_list())
    return {g: counts.get(g, 0) for g in GROUPS}


def _people_and_cases(frame: pl.DataFrame) -> tuple[int, int]:
    if frame.height == 0:
        return 0, 0
    return (frame["subject_id"].n_unique(),
            frame.select(pl.struct("courthouse", "court_case_number", "subject_id").n_unique()).item())


def _row_ranges(frame: pl.DataFrame) -> dict[str, tuple[int, int]]:
    ranges: dict[str, tuple[int, int]] = {}
    for i, g in enumerate(frame["group"].to_list(), start=1):
        lo, _ = ranges.get(g, (i, i))
        ranges[g] = (lo, i)
    return ranges


def _criteria_lines(granted: pl.DataFrame) -> list[str]:
    """The bases actually used, per relief, most frequent first (statute cites, no personal data)."""
    lines = []
    for g, (label, _) in GROUPS.items():
        part = granted.filter(pl.col("group") == g)
        if not part.height:
            continue
        cites: Counter[str] = Counter()
        for basis in part["basis"].to_list():
            for cite in (c.strip() for c in basis.split(";")):
                if cite:
                    cites[cite] += 1
        top = [c for c, _ in cites.most_common(6)]
        more = f" and {len(cites) - 6} more" if len(cites) > 6 else ""
        lines.append(f"{label}: {_n(part.height, 'conviction')}; bases relied on: "
                     f"{_x('; '.join(top)) or 'none recorded'}{more}.")
    return lines


# --------------------------------------------------------------------------- exhibits

EX_FONT_SIZE, EX_LEADING, EX_PAD = 9.0, 10.5, 2.5
EX_COLUMNS_A = [("No.", 26), ("Court case", 60), ("Courthouse", 86), ("Defendant (AKA)", 104),
                ("DOB", 48), ("CII", 50), ("Conv. date", 48), ("Count", 30),
                ("Section as convicted", 60), ("Level", 26), ("Relief", 56), ("Basis", 90)]
# Exhibit B has no relief / basis: the reason (often long) gets the room.
EX_COLUMNS_B = [("No.", 26), ("Court case", 60), ("Courthouse", 70), ("Defendant (AKA)", 104),
                ("DOB", 48), ("CII", 50), ("Conv. date", 48), ("Count", 30),
                ("Section as convicted", 54), ("Level", 26), ("Ground", 56), ("Reason", 112)]
MAX_CELL_LINES = 8


def _hard_wrap(line: str, font: str, width: float) -> list[str]:
    """Break a line with no usable spaces (``11357(A)HS-POSSESS``) by characters."""
    out, cur = [], ""
    for ch in line:
        if cur and stringWidth(cur + ch, font, EX_FONT_SIZE) > width:
            out.append(cur)
            cur = ch.lstrip()
        else:
            cur += ch
    return out + [cur]


@lru_cache(maxsize=65536)
def _wrap_cell(text: str, width: float, bold: bool = False) -> tuple[str, int]:
    font, avail = (BOLD if bold else FONT), width - 2 * EX_PAD
    lines: list[str] = []
    for para in _t(text).split("\n"):
        for line in simpleSplit(para, font, EX_FONT_SIZE, avail) or [""]:
            lines += _hard_wrap(line, font, avail) if stringWidth(line, font, EX_FONT_SIZE) > avail else [line]
    if len(lines) > MAX_CELL_LINES:  # never silently: the cut is marked
        lines = lines[:MAX_CELL_LINES - 1] + [lines[MAX_CELL_LINES - 1].rstrip() + " [...]"]
    return "\n".join(lines), len(lines)


def _exhibit_table(columns: list[tuple[str, float]], rows: Iterable[list[str]]) -> Table:
    widths = [w for _, w in columns]
    header = []
    header_lines = 1
    for title, w in columns:
        text, n = _wrap_cell(title, w, True)
        header.append(text)
        header_lines = max(header_lines, n)
    data = [header]
    heights = [header_lines * EX_LEADING + 2 * EX_PAD]
    for row in rows:
        cells, most = [], 1
        for value, w in zip(row, widths):
            text, n = _wrap_cell(value, w)
            cells.append(text)
            most = max(most, n)
        data.append(cells)
        heights.append(most * EX_LEADING + 2 * EX_PAD)
    # splitByRow without splitInRow: a page break only ever falls between whole rows.
    table = Table(data, colWidths=widths, rowHeights=heights, repeatRows=1, splitByRow=1, splitInRow=0)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), FONT, EX_FONT_SIZE, EX_LEADING),
        ("FONT", (0, 0), (-1, 0), BOLD, EX_FONT_SIZE, EX_LEADING),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.88, 0.88)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.black),
        ("TOPPADDING", (0, 0), (-1, -1), EX_PAD),
        ("BOTTOMPADDING", (0, 0), (-1, -1), EX_PAD),
        ("LEFTPADDING", (0, 0), (-1, -1), EX_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), EX_PAD),
    ]))
    return table


def _person_cells(r: dict, row_no: int) -> list[str]:
    name = r["primary_name"] or r["name"]
    return [str(row_no), _case_no(r["court_case_number"]), r["courthouse"] or "(not recorded)",
            name + (f"\nAKA {r['aka']}" if r["aka"] else ""), r["dob"], r["cii_number"],
            r["conviction_date"], _count_no(r["count_key"]), _section(r), r["level"]]


def _section(r: dict) -> str:
    """The section as convicted: canonical form, with an attempt / conspiracy qualifier."""
    section = r["code_section"] or r["code_section_original"]
    return f"{section} ({r['qualifier']})" if r["qualifier"] else section


def _relief_text(r: dict) -> str:
    if r["group"] == "resentence":
        return "Resentence: " + ("infraction" if r["filing_relief"] == "reduce_to_infraction" else "misdemeanor")
    return GROUPS[r["group"]][1]


def _exhibit_a(granted: pl.DataFrame) -> list:
    story: list = _new_page("exhibit") + [_bookmark("Exhibit A - convictions granted relief")]
    if granted.height == 0:
        story += [_exhibit_label("EXHIBIT A - CONVICTIONS FOR WHICH RELIEF IS REQUESTED"),
                  Paragraph("No convictions are listed in Exhibit A.", REPORT)]
        return story
    row_no = 0
    first = True
    for part, (g, (label, _)) in enumerate(GROUPS.items(), start=1):
        frame = granted.filter(pl.col("group") == g)
        if not frame.height:
            continue
        if not first:
            story.append(PageBreak())
        first = False
        title = f"EXHIBIT A-{part}: {label}"
        rows = []
        for r in frame.iter_rows(named=True):
            row_no += 1
            rows.append(_person_cells(r, row_no) + [_relief_text(r), r["basis"]])
        story += [_exhibit_label(f"{title} (Exhibit A rows {row_no - frame.height + 1}-{row_no})"),
                  _bookmark(f"Exhibit A-{part}: {label}", 1),
                  _exhibit_table(EX_COLUMNS_A, rows)]
    return story


def _exhibit_b(challenged: pl.DataFrame) -> list:
    story: list = _new_page("exhibit") + [_exhibit_label("EXHIBIT B - CONVICTIONS THE PEOPLE CHALLENGE (Health & Saf. Code, § 11361.9)"),
              _bookmark("Exhibit B - challenged convictions")]
    if challenged.height == 0:
        story.append(Paragraph("No convictions are challenged.", REPORT))
        return story
    rows = [_person_cells(r, i) + [GROUNDS[r["ground"]], r["ground_reason"]]
            for i, r in enumerate(challenged.iter_rows(named=True), start=1)]
    story.append(_exhibit_table(EX_COLUMNS_B, rows))
    return story


# --------------------------------------------------------------------------- the bulk packet


def _check_selection(selection: Selection) -> None:
    if not isinstance(selection, Selection):
        raise TypeError("selection must come from select_for_filing()")


def build_packet(selection: Selection, office: Office, *, as_of: date | str,
                 source_description: str | Sequence[str], profile_title: str | None = None,
                 audit_head: str | None = None, courthouse: str | None = None,
                 title: str = MOTION_TITLE) -> bytes:
    """The bulk motion packet: notice and motion, points and authorities, declaration,
    Exhibits A and B, proposed order and proof of service on the Public Defender."""
    _check_selection(selection)
    if courthouse is not None:
        selection = selection.for_courthouse(courthouse)
    granted, challenged = selection.granted, selection.challenged
    if granted.height + challenged.height == 0:
        raise InputError("nothing to file: no granted or challenged convictions"
                         + (f" at courthouse {courthouse}" if courthouse else ""))
    sources = [source_description] if isinstance(source_description, str) else list(source_description)
    county = _county_name(office.county)
    groups = _group_counts(granted)
    people_a, cases_a = _people_and_cases(granted)
    people_b, cases_b = _people_and_cases(challenged)
    ranges = _row_ranges(granted)
    extra = [f"Courthouse: {_x(courthouse)}"] if courthouse else []
    extra.append("No hearing is requested unless the Court orders one.")
    parties = _parties("PERSONS LISTED IN EXHIBITS A AND B")
    signer = office.signer

    s: list = [NextPageTemplate("pleading"), _footer(title), _bookmark("Notice of motion and motion")]
    s += _caption(office, parties=parties, case_number="Various (see Exhibits A and B)",
                  nature=f"{title}; NOTICE OF MOTION; MEMORANDUM OF POINTS AND AUTHORITIES; "
                         f"DECLARATION OF {signer.upper()}; EXHIBITS A AND B", extra=extra)
    # Notice of motion and motion.
    s += [
        _p(f"TO THE COURT AND TO THE {_x(office.public_defender.upper())}:", PLAIN),
        _p(f"The People of the State of California, through the District Attorney of {_x(county)} County, "
           f"move the Court under Health and Safety Code sections 11361.8 and 11361.9 for an order "
           f"granting the relief shown for each conviction listed in Exhibit A: dismissal and sealing, "
           f"redesignation as a misdemeanor or an infraction, or recall of the sentence and resentencing. "
           f"Exhibit A lists {_n(granted.height, 'conviction')} in {_n(cases_a, 'court case')} of "
           f"{_n(people_a, 'person')}. The People do not challenge relief for any of them."),
    ]
    if challenged.height:
        s.append(_p(f"Exhibit B lists {_n(challenged.height, 'conviction')} in {_n(cases_b, 'court case')} "
                    f"of {_n(people_b, 'person')} for which the People challenge relief, each with the ground "
                    f"of the challenge. This motion also serves as the notice to the Court and to the "
                    f"Public Defender that section 11361.9 requires for those convictions."))
    else:
        s.append(_p("The People challenge no conviction in this motion; Exhibit B is empty."))
    s += _signature(office, _p(f"The motion is based on this notice, the memorandum of points and authorities "
                               f"and the declaration of {_x(signer)} that follow, Exhibits A and B, the Court's "
                               f"own records, and any further matter the Court may consider."))

    # Points and authorities.
    profile = profile_title or "the office's screening profile"
    s += [PageBreak(), _bookmark("Memorandum of points and authorities"),
          _p("MEMORANDUM OF POINTS AND AUTHORITIES", HEAD),
          _p("I. THE STATUTORY PRESUMPTION (HEALTH &amp; SAF. CODE, § 11361.8)", SUBHEAD),
          _p("Proposition 64, approved on November 8, 2016, made most adult cannabis conduct lawful or a "
             "lesser offense and added section 11361.8 to the Health and Safety Code. A person convicted of "
             "an offense under sections 11357 through 11360 who would not have been guilty, or would have "
             "been guilty of a lesser offense, under the current law may have the conviction dismissed and "
             "sealed, or redesignated as a misdemeanor or an infraction once the sentence is complete "
             "(§ 11361.8, subds. (e), (f)), or may have a sentence still being served recalled and be "
             "resentenced or have the conviction dismissed (§ 11361.8, subds. (a), (b))."),
          _p("In both cases the Court presumes that the person satisfies the criteria for relief unless the "
             "party opposing relief shows by clear and convincing evidence that the person does not "
             "(§ 11361.8, subds. (b), (f)). Facts the record does not show, such as a quantity, a number of "
             "plants or whether a transfer was a sale, therefore weigh in the person's favor."),
          _p("II. THE REVIEW PROCEDURE (HEALTH &amp; SAF. CODE, § 11361.9)", SUBHEAD),
          _p("Section 11361.9 required the Department of Justice to identify the convictions that may be "
             "eligible for relief and to send each county's list to its prosecutor. The prosecutor reviews "
             "every case and either does not challenge relief or challenges it on the ground that the person "
             "does not meet the criteria of section 11361.8 or presents an unreasonable risk to public safety. "
             "A challenged case must be reported to the Court and to the Public Defender, who tries to notify "
             "the person. Where the prosecutor does not challenge, the Court grants relief, updates its "
             "records and reports the outcome to the Department of Justice."),
          _p("III. THE EFFECT OF RELIEF", SUBHEAD),
          _p("A conviction that is resentenced or redesignated as a misdemeanor or an infraction is a "
             "misdemeanor or an infraction for all purposes (§ 11361.8, subd. (h)). A conviction that is "
             "dismissed and sealed is dismissed as legally invalid under the current law, and its record "
             "is sealed (§ 11361.8, subd. (f))."),
          _p("IV. THE PEOPLE'S REVIEW CRITERIA", SUBHEAD),
          _p(f"The People reviewed each conviction under the office's written criteria, titled "
             f"\u201c{_x(profile)}\u201d. Those criteria apply the statute and, where they say so, the "
             f"office's decision not to challenge relief in circumstances beyond what the statute requires. "
             f"Each row of Exhibit A states the relief requested and its basis; each row of Exhibit B states "
             f"the ground of the challenge. In this motion:"),
          ]
    for line in _criteria_lines(granted):
        s.append(_p(line, ITEM))
    if not granted.height:
        s.append(_p("No relief is requested in Exhibit A.", ITEM))
    s += [_p("Convictions still under review by an attorney are not part of this motion; they will be "
             "presented separately."),
          _p("V. CONCLUSION", SUBHEAD),
          *_signature(office, _p("The People ask the Court to grant the relief stated in Exhibit A, to take "
                                 "notice of the challenges stated in Exhibit B, and to sign the proposed order."))]

    # Declaration.
    role = (f"a Deputy District Attorney of {_x(county)} County, responsible for this office's review under "
            f"Health and Safety Code section 11361.9" if office.deputy else
            f"the District Attorney of {_x(county)} County")
    lo = ", ".join(f"{groups[g]:,} {GROUP_COUNTS[g]}" for g in GROUPS if groups[g])
    s += [PageBreak(), _bookmark("Declaration"),
          _p(f"DECLARATION OF {_x(signer.upper())}", HEAD),
          _p(f"I, {_x(signer)}, declare:"),
          _p(f"1. I am {role}. I have personal knowledge of the facts below and could testify to them."),
          _p(f"2. Data sources. The review used the records listed here, evaluated as of "
             f"{_x(_long_date(as_of))}:")]
    for src in sources:
        s.append(_p(_x(src), ITEM))
    s += [_p("3. Review method. The records were read with ClearRec Desktop, which groups the rows by "
             "person, finds each cannabis conviction under sections 11357 through 11360 in this county, and "
             f"applies the office's criteria (\u201c{_x(profile)}\u201d) in a fixed order. For every conviction it "
             "records the rule that decided it, the authority for that rule and the record rows relied on. "
             "Convictions the criteria could not decide, such as those with an unknown date or a possible "
             "disqualifying prior conviction, were referred to an attorney, and an attorney's recorded "
             "decision replaced the screening result wherever one was made."),
          _p(f"4. Counts. Exhibit A lists {_n(granted.height, 'conviction')} in {_n(cases_a, 'court case')} "
             f"of {_n(people_a, 'person')}" + (f" ({lo})" if lo else "") + ". "
             f"Exhibit B lists {_n(challenged.height, 'conviction')} in {_n(cases_b, 'court case')} of "
             f"{_n(people_b, 'person')}. "
             f"{_n(selection.left_out.height, 'further conviction')} found in the same records "
             f"{'is' if selection.left_out.height == 1 else 'are'} not part of this motion because "
             f"{'it remains' if selection.left_out.height == 1 else 'they remain'} under review or "
             f"{'was' if selection.left_out.height == 1 else 'were'} deferred."),
          _p("5. The exhibits were printed from the same data as the electronic file of these rows "
             "provided to the clerk for updating the Court's records.")]
    if audit_head:
        s.append(_p(f"6. The office's audit record of this review ends with the entry whose hash is:", BODY))
        s.append(_p(_x(audit_head), ITEM))
    s.append(KeepTogether([
        _p("I declare under penalty of perjury under the laws of the State of California that the "
           "foregoing is true and correct."),
        _p("Executed on ____________________, at ____________________, California."),
        _p("<br/>".join(["", "", "______________________________", _x(signer)]), SIGN)]))

    s += _exhibit_a(granted)
    s += _exhibit_b(challenged)

    # Proposed order, with its own caption: the Court signs and files it separately.
    s += _new_page("pleading") + [_footer(ORDER_TITLE), _bookmark("[Proposed] order")]
    s += _caption(office, parties=parties, case_number="Various (see Exhibits A and B)",
                  nature=ORDER_TITLE, extra=[f"Courthouse: {_x(courthouse)}"] if courthouse else [])
    s.append(_p("The Court has read the People's motion under Health and Safety Code sections 11361.8 and "
                "11361.9 and its Exhibits A and B, which are incorporated in this order. Good cause "
                "appearing, IT IS ORDERED:"))
    k = 0
    wording = {
        "dismiss_and_seal": "is dismissed and sealed as legally invalid (Health &amp; Saf. Code, § 11361.8, subd. (f)).",
        "redesignate_misdemeanor": "is redesignated as a misdemeanor for all purposes (§ 11361.8, subds. (f), (h)).",
        "redesignate_infraction": "is redesignated as an infraction for all purposes (§ 11361.8, subds. (f), (h)).",
        "resentence": "has its sentence recalled and is resentenced as a misdemeanor or an infraction, as its "
                      "Relief column states, for all purposes (§ 11361.8, subds. (b), (h)).",
    }
    for part, g in enumerate(GROUPS, start=1):
        if groups[g]:
            k += 1
            lo_row, hi_row = ranges[g]
            s.append(_p(f"{k}. Each conviction listed in Exhibit A-{part} (Exhibit A rows {lo_row} to {hi_row}, "
                        f"{_n(groups[g], 'conviction')}) {wording[g]}"))
    k += 1
    s.append(_p(f"{k}. The convictions listed in Exhibit B ({_n(challenged.height, 'conviction')}) are not "
                f"affected by this order; the People's challenge to each will be decided as section 11361.9 "
                f"provides."))
    k += 1
    s.append(_p(f"{k}. The clerk shall update the Court's records for each conviction in Exhibit A and report "
                f"each disposition to the Department of Justice."))
    s.append(KeepTogether([
        _gap(),
        _p("Dated: ____________________", PLAIN),
        _p("<br/>".join(["", "______________________________", "Judge of the Superior Court"]), SIGN)]))

    s += _proof_of_service(office, f"{title}, with its notice, memorandum of points and authorities, "
                                  f"declaration, Exhibits A and B, and proposed order")
    return _render(s, title=title, office=office, audit_head=audit_head,
                   subject=f"Cannabis relief motion, {county} County")


def _proof_of_service(office: Office, served: str) -> list:
    s: list = _new_page("pleading") + [_footer(PROOF_TITLE), _bookmark("Proof of service"),
          _p("PROOF OF SERVICE", HEAD),
          _p(f"I am over eighteen years of age and not a party to this action. My business address is "
             f"{_x(', '.join(office.address_lines))}."),
          _p(f"On ____________________, I served the following document: {_x(served)}, on the "
             f"{_x(office.public_defender)} as follows:"),
          _p("[&nbsp;&nbsp;] by personal delivery to the Public Defender's office at "
             "________________________________________", ITEM),
          _p("[&nbsp;&nbsp;] by electronic service to ____________________________________", ITEM),
          _p("[&nbsp;&nbsp;] by mail, in a sealed envelope with postage prepaid, addressed to "
             "________________________________________", ITEM),
          _p("I declare under penalty of perjury under the laws of the State of California that the "
             "foregoing is true and correct."),
          KeepTogether([
              _p("Dated: ____________________", PLAIN),
              _p("<br/>".join(["", "______________________________", "Signature", "", "",
                               "______________________________", "Printed name"]), SIGN)])]
    return s


def _render(story: list, *, title: str, office: Office | None, audit_head: str | None, subject: str,
            first: str = "pleading") -> bytes:
    buf = io.BytesIO()
    doc = _Doc(buf, title=title, author=office.office if office else "ClearRec Desktop", subject=subject,
               audit_head=audit_head, first=first)
    doc.render(story)
    return buf.getvalue()


# --------------------------------------------------------------------------- per-case motions


def _cases(granted: pl.DataFrame) -> list[pl.DataFrame]:
    if granted.height == 0:
        return []
    keyed = granted.sort(["courthouse", "court_case_number", "primary_name", "subject_id", "count_key"]).with_columns(
        pl.struct("courthouse", "court_case_number", "subject_id").alias("_case"))
    return [part.drop("_case") for part in keyed.partition_by("_case", maintain_order=True)]


def _sections_text(case: pl.DataFrame) -> list[str]:
    """One entry per (section, level, relief), with a count multiplier: "HS 11359 x2"."""
    seen: dict[tuple[str, str, str], int] = {}
    for r in case.iter_rows(named=True):
        key = (r["code_section"] or r["code_section_original"], r["level"], _relief_text(r))
        seen[key] = seen.get(key, 0) + 1
    return [f"{sec}{f' x{n}' if n > 1 else ''} ({level or '?'}): {relief.lower()}"
            for (sec, level, relief), n in seen.items()]


def build_per_case(selection: Selection, office: Office, *, audit_head: str | None = None) -> bytes:
    """One page per court case (per person): the People's request and an order block."""
    _check_selection(selection)
    cases = _cases(selection.granted)
    if not cases:
        raise InputError("nothing to file: no granted convictions for per-case motions")
    s: list = [NextPageTemplate("pleading"), _footer(PER_CASE_TITLE)]
    for i, case in enumerate(cases):
        first = case.row(0, named=True)
        if i:
            s.append(PageBreak())
        primary = first["primary_name"] or first["name"]
        names_here = sorted({n for n in case["name"].to_list() if n and n != primary})
        tracks = set(case["relief_track"].to_list())
        groups = set(case["group"].to_list())
        track = []
        if "petition" in tracks:
            track.append("Resentencing, HS 11361.8(b) (sentence still being served)")
        if tracks - {"petition"}:
            track.append("Redesignation / dismissal and sealing, HS 11361.8(f) (sentence completed)"
                         if tracks - {"petition"} == {"application"} else
                         "Redesignation / dismissal and sealing, HS 11361.8(f)")
        s += [_bookmark(f"Case {_case_no(first['court_case_number'])}")]
        s += _caption(office, parties=_parties(
            f"{_x(primary)}{' (AKA ' + _x('; '.join(names_here)) + ')' if names_here else ''}", plural=False),
            case_number=_case_no(first["court_case_number"]),
            nature=PER_CASE_TITLE, extra=[f"Courthouse: {_x(first['courthouse'] or '(not recorded)')}"], gap=False)
        dates = sorted({d for d in case["conviction_date"].to_list() if d})
        facts = [
            f"<b>Defendant:</b> {_x(primary)}" + (f" &nbsp;<b>AKA:</b> {_x('; '.join(names_here))}" if names_here else ""),
            f"<b>DOB:</b> {_x(first['dob'] or 'unknown')} &nbsp;&nbsp;<b>CII:</b> {_x(first['cii_number'] or 'none')}"
            f" &nbsp;&nbsp;<b>Convicted:</b> {_x(', '.join(dates) or 'unknown')}",
            "<b>Convictions:</b> " + "; ".join(_x(t) for t in _sections_text(case)),
            "<b>Track:</b> " + _x("; ".join(track)),
        ]
        s.append(_p("<br/>".join(facts), SINGLE))
        asks = []
        if "dismiss_and_seal" in groups:
            asks.append("dismiss and seal")
        if groups & {"redesignate_misdemeanor", "redesignate_infraction"}:
            asks.append("redesignate")
        if "resentence" in groups:
            asks.append("recall the sentence and resentence")
        s.append(_p(f"The People do not challenge relief (Health &amp; Saf. Code, § 11361.9) and ask the Court to "
                    f"{' or '.join(asks)} each conviction listed above, as stated for it.", REQUEST))
        s.append(_dated_signature(["", "By: ______________________________",
                                   f"{_x(office.signer)}, {_x(office.signer_role)}"]))
        s += [_gap(), _p("ORDER", HEAD)]
        box = "[&nbsp;&nbsp;]"
        s.append(_p("<br/>".join([
            f"The request is {box} GRANTED {box} DENIED. Each conviction listed above is:",
            f"{box} resentenced as a {box} misdemeanor {box} infraction (HS 11361.8(b))",
            f"{box} redesignated as a {box} misdemeanor {box} infraction (HS 11361.8(f), (h))",
            f"{box} dismissed as legally invalid (HS 11361.8(f)) &nbsp;&nbsp;{box} record sealed",
            "The clerk shall update the Court's records and report the disposition to the Department of Justice.",
        ]), SINGLE))
        s.append(_dated_signature(["", "", "______________________________", "Judge of the Superior Court"]))
    return _render(s, title=PER_CASE_TITLE, office=office, audit_head=audit_head,
                   subject=f"Per-case cannabis relief motions, {_county_name(office.county)} County")


# --------------------------------------------------------------------------- challenge notice


def build_challenge_notice(selection: Selection, office: Office, *, audit_head: str | None = None) -> bytes:
    """Notice to the Court and the Public Defender of the challenged convictions (HS 11361.9)."""
    _check_selection(selection)
    challenged = selection.challenged
    if challenged.height == 0:
        raise InputError("nothing to serve: no challenged convictions")
    people, cases = _people_and_cases(challenged)
    parties = _parties("PERSONS LISTED IN EXHIBIT B")
    s: list = [NextPageTemplate("pleading"), _footer(CHALLENGE_TITLE), _bookmark("Notice of challenge")]
    s += _caption(office, parties=parties, case_number="Various (see Exhibit B)", nature=CHALLENGE_TITLE)
    s += [_p(f"TO THE COURT AND TO THE {_x(office.public_defender.upper())}:", PLAIN),
          _p(f"Under Health and Safety Code section 11361.9, the People give notice that they challenge relief "
             f"under section 11361.8 for the {_n(challenged.height, 'conviction')} in "
             f"{_n(cases, 'court case')} of {_n(people, 'person')} listed in Exhibit B. For each conviction "
             f"Exhibit B states the ground: that the person does not meet the criteria of section 11361.8, or "
             f"that the person presents an unreasonable risk to public safety, and the reason."),
          *_signature(office, _p(
              "Section 11361.9 asks the Public Defender to make a reasonable effort to notify each person listed "
              "and to tell the person that a challenge has been made. The People will respond to any petition "
              "or application the person files and ask that a hearing be set for each challenged conviction."))]
    s += _exhibit_b(challenged)
    s += _proof_of_service(office, f"{CHALLENGE_TITLE}, with Exhibit B")
    return _render(s, title=CHALLENGE_TITLE, office=office, audit_head=audit_head,
                   subject=f"Notice of challenge, {_county_name(office.county)} County")


# --------------------------------------------------------------------------- cover report


def build_cover_report(selection: Selection, office: Office | None = None, *, summary: dict | None = None,
                       produced: Sequence[str] = (), audit_head: str | None = None) -> bytes:
    """For the office, not the court: what was filed, what was left out and why, so that no
    conviction is dropped silently."""
    _check_selection(selection)
    g, c, left = selection.granted, selection.challenged, selection.left_out
    groups = _group_counts(g)
    s: list = [_bookmark("Cover report"),
               Paragraph("Court documents: cover report", REPORT_HEAD)]
    if summary:
        profile = summary.get("profile") or {}
        s.append(Paragraph(
            f"County: {_x(summary.get('county', ''))}. Evaluated as of {_x(summary.get('as_of', ''))}. "
            f"Profile: {_x(profile.get('title') or profile.get('id') or '')}.", REPORT))
        for src in _source_lines(summary):
            s.append(Paragraph(_x(src), REPORT))
    if office:
        s.append(Paragraph(f"Office: {_x(office.office)}, {_x(_county_name(office.county))} County.", REPORT))
    kinds = Counter(left["left_out_kind"].to_list())
    balanced = g.height + c.height + left.height == selection.total
    lines = [
        f"Screened convictions in the results: {selection.total:,}.",
        f"Exhibit A (relief requested): {g.height:,} - "
        + ", ".join(f"{groups[k]:,} {GROUP_COUNTS[k]}" for k in GROUPS) + ".",
        f"Exhibit B (challenged): {c.height:,}.",
        f"Left out of the filing: {left.height:,} - in review {kinds.get('review', 0):,}, deferred "
        f"{kinds.get('defer', 0):,}, decision needs attention {kinds.get('unresolved', 0):,}.",
        ("Every screened conviction is accounted for." if balanced else
         "WARNING: the counts above do not add up to the screened total."),
    ]
    s += [Paragraph(_x(line), REPORT) for line in lines]
    if produced:
        s.append(Paragraph("Files written: " + _x(", ".join(produced)) + ".", REPORT))
    s.append(Paragraph("The convictions left out are listed on the following pages with the reason. They "
                       "are not in any court document; decide them in the review screen and build the "
                       "documents again.", REPORT))
    s += _new_page("exhibit") + [_exhibit_label("LEFT OUT OF THE FILING - NOT FOR THE COURT"), _bookmark("Convictions left out")]
    if left.height == 0:
        s.append(Paragraph("None: every screened conviction is in Exhibit A or Exhibit B.", REPORT))
    else:
        cols = [("No.", 28), ("Conviction id", 132), ("Court case", 60), ("Courthouse", 80),
                ("Defendant (AKA)", 100), ("Section", 56), ("Level", 26), ("Outcome / decision", 58),
                ("Why left out", 144)]
        rows = [[str(i), r["conviction_id"], _case_no(r["court_case_number"]), r["courthouse"],
                 (r["primary_name"] or r["name"]) + (f"\nAKA {r['aka']}" if r["aka"] else ""),
                 _section(r), r["level"], r["outcome"] + (f"\n{r['decision']}" if r["decision"] else ""),
                 r["left_out_reason"]]
                for i, r in enumerate(left.iter_rows(named=True), start=1)]
        s.append(_exhibit_table(cols, rows))
    return _render(s, title="Court documents: cover report (not for filing)", office=office,
                   audit_head=audit_head, subject="What was filed and what was left out", first="report")


# --------------------------------------------------------------------------- court update file

UPDATE_COLUMNS = ("packet", "exhibit", "row", "action", "new_level", "track", "court_case_number", "courthouse",
                  "county", "name", "aka", "dob", "cii_number", "conviction_date", "count", "code_section",
                  "code_section_original", "level", "basis_or_ground", "conviction_id")


def court_update_rows(selection: Selection, *, by_courthouse: bool = False) -> pl.DataFrame:
    """The exhibit rows as a table for the court's case-management update; ``packet`` and
    ``row`` match the printed exhibits (numbered per courthouse packet when by_courthouse)."""
    _check_selection(selection)
    packets = [(c, selection.for_courthouse(c)) for c in selection.courthouses] if by_courthouse \
        else [("ALL", selection)]
    out: dict[str, list] = {c: [] for c in UPDATE_COLUMNS}

    def add(packet, exhibit, row_no, r, action, new_level, basis):
        values = {"packet": packet, "exhibit": exhibit, "row": row_no, "action": action, "new_level": new_level,
                  "track": r["relief_track"], "court_case_number": r["court_case_number"],
                  "courthouse": r["courthouse"], "county": r["county"], "name": r["primary_name"] or r["name"],
                  "aka": r["aka"], "dob": r["dob"], "cii_number": r["cii_number"],
                  "conviction_date": r["conviction_date"], "count": _count_no(r["count_key"]),
                  "code_section": r["code_section"], "code_section_original": r["code_section_original"],
                  "level": r["level"], "basis_or_ground": basis, "conviction_id": r["conviction_id"]}
        for k, v in values.items():
            out[k].append(v)

    for packet, sel in packets:
        for i, r in enumerate(sel.granted.iter_rows(named=True), start=1):
            new_level = {"reduce_to_misdemeanor": "M", "reduce_to_infraction": "I"}.get(r["filing_relief"], "")
            action = r["group"] if r["group"] != "resentence" else \
                f"resentence_{'infraction' if new_level == 'I' else 'misdemeanor'}"
            add(packet, "A", i, r, action, new_level, r["basis"])
        for i, r in enumerate(sel.challenged.iter_rows(named=True), start=1):
            add(packet, "B", i, r, "challenged", "", f"{r['ground']}: {r['ground_reason']}")
    schema = {c: (pl.Int64 if c == "row" else pl.String) for c in UPDATE_COLUMNS}
    return pl.DataFrame(out, schema=schema)


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xlsx_bytes(frame: pl.DataFrame) -> bytes:
    """Write-only openpyxl workbook built entirely in memory.

    openpyxl streams sheet XML into a named temporary file; records must never touch a
    temporary file, so the sheet writer is given a BytesIO instead and the archive step
    takes the bytes from it. Every text cell is forced to a string cell, so a value such as
    ``=HYPERLINK(...)`` stays text and never becomes a formula.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.worksheet._writer import WorksheetWriter
    from openpyxl.writer.excel import ExcelWriter

    class _MemorySheetWriter(WorksheetWriter):
        def __init__(self, ws):
            super().__init__(ws, out=io.BytesIO())

        def cleanup(self):
            pass

    class _MemoryExcelWriter(ExcelWriter):
        def write_worksheet(self, ws):
            from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
            ws._drawing = SpreadsheetDrawing()
            ws._drawing.charts = ws._charts
            ws._drawing.images = ws._images
            if not ws.closed:
                ws.close()
            writer = ws._writer
            ws._rels = writer._rels
            self._archive.writestr(ws.path[1:], writer.out.getvalue())
            self.manifest.append(ws)

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("court update")
    ws._writer = _MemorySheetWriter(ws)
    ws._writer.write_top()

    def cell(value):
        if isinstance(value, int):
            return value
        c = WriteOnlyCell(ws, value=None)
        c._value = _ILLEGAL_XML.sub("", "" if value is None else str(value))
        c.data_type = "s"  # never "f", whatever the text starts with
        return c

    ws.append([cell(c) for c in frame.columns])
    for row in frame.iter_rows():
        ws.append([cell(v) for v in row])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        _MemoryExcelWriter(wb, archive).write_data()
    return buf.getvalue()


def _csv_bytes(frame: pl.DataFrame) -> bytes:
    # The CSV is for the court's case-management import, so values are kept exactly as they
    # are (no spreadsheet-formula escaping); the XLSX is the file meant to be opened by people.
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(frame.columns)
    writer.writerows(frame.iter_rows())
    return buf.getvalue().encode("utf-8")


def write_court_update(selection: Selection, csv_path: Path | None, xlsx_path: Path | None, *,
                       by_courthouse: bool = False) -> list[Path]:
    frame = court_update_rows(selection, by_courthouse=by_courthouse)
    written = []
    if csv_path is not None:
        written.append(_write(Path(csv_path), _csv_bytes(frame)))
    if xlsx_path is not None:
        written.append(_write(Path(xlsx_path), _xlsx_bytes(frame)))
    return written


def _write(path: Path, data: bytes) -> Path:
    path = local_path(path, must_exist=False)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc.__class__.__name__})") from None
    return path


# --------------------------------------------------------------------------- build from a run


def _source_lines(summary: dict) -> list[str]:
    lines = []
    for item in summary.get("inputs") or []:
        parts = [f"File {item.get('file', '?')}"]
        if item.get("sha256"):
            parts.append(f"SHA-256 {item['sha256']}")
        if item.get("lines_read") is not None:
            parts.append(f"{int(item['lines_read']):,} lines read")
        if item.get("rows_imported") is not None:
            parts.append(f"{int(item['rows_imported']):,} rows imported")
        lines.append(", ".join(parts) + ".")
    return lines or ["(the screening run lists no input files)"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def build_documents(screen_out_dir: Path, office_file: Path, out_dir: Path, *, per_case: bool = False,
                    by_courthouse: bool = False, decisions: pl.DataFrame | Path | None = None,
                    audit_head: str | None = None) -> list[Path]:
    """What ``clearrec documents`` calls: read a screening output directory, write the PDFs,
    the court update CSV / XLSX and the cover report under ``out_dir``; return the paths."""
    from .pipeline import read_screen_output

    results, summary = read_screen_output(screen_out_dir)
    office = load_office(office_file)
    if " ".join(office.county.upper().split()) != " ".join(str(summary["county"]).upper().split()):
        raise InputError(f"{Path(office_file).name}: the office is in {_county_name(office.county)} County "
                         f"but the screening run is for {_county_name(str(summary['county']))} County")
    if decisions is not None and not isinstance(decisions, pl.DataFrame):
        dpath = local_path(decisions, what="decisions file")
        try:
            decisions = pl.read_csv(dpath, infer_schema=False)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise InputError(f"{dpath.name}: cannot read the decisions ({exc.__class__.__name__})") from None
    selection = select_for_filing(results, decisions)

    out_dir = local_path(out_dir, must_exist=False)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot create the folder ({exc.strerror})") from None
    profile = summary.get("profile") or {}
    common = dict(as_of=summary["as_of"], source_description=_source_lines(summary),
                  profile_title=profile.get("title") or profile.get("id"), audit_head=audit_head)
    outputs: list[tuple[str, bytes]] = []
    if selection.granted.height + selection.challenged.height:
        if by_courthouse:
            for court in selection.courthouses:
                outputs.append((f"motion-packet-{_slug(court)}.pdf",
                                build_packet(selection, office, courthouse=court, **common)))
        else:
            outputs.append(("motion-packet.pdf", build_packet(selection, office, **common)))
        if selection.challenged.height:
            outputs.append(("challenge-notice.pdf", build_challenge_notice(selection, office, audit_head=audit_head)))
        if per_case and selection.granted.height:
            outputs.append(("per-case-motions.pdf", build_per_case(selection, office, audit_head=audit_head)))
        update = court_update_rows(selection, by_courthouse=by_courthouse)
        outputs.append(("court-update.csv", _csv_bytes(update)))
        outputs.append(("court-update.xlsx", _xlsx_bytes(update)))
    names = [n for n, _ in outputs] + ["cover-report.pdf"]
    outputs.append(("cover-report.pdf", build_cover_report(selection, office, summary=summary, produced=names,
                                                           audit_head=audit_head)))
    return [_write(out_dir / name, data) for name, data in outputs]
