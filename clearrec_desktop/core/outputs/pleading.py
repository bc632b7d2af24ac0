"""The layout of California pleading paper (CRC 2.100-2.119) with reportlab: the page grid,
styles, caption, signature blocks and exhibit tables. What the documents say is in packet.py.

Everything is built in memory and written only to the paths the user chose: no temporary
files of records, ever. Inputs are the screening output (results.csv + summary.json, see
docs/architecture.md), an office file (TOML) and, optionally, the attorney's decisions.

Layout facts the code relies on (checked by tests/core/outputs/test_documents.py with pdfplumber):
- pleading pages carry 28 numbered lines 24 pt apart; line n's baseline is
  ``TOP_BASELINE - 24 * (n - 1)``;
- a platypus paragraph's first baseline sits at its top minus the font size (12 pt), so the
  text frame's top is ``TOP_BASELINE + 12``, and every flowable in a pleading story is padded
  to whole 24 pt lines (``_Snap``) so the grid never drifts;
- "Page X of Y": each page draws a form XObject ``pn<X>`` that is only defined when the
  canvas is saved and the page count is known (one build pass, bookmarks stay correct).
"""

from __future__ import annotations

import math
import re
from datetime import date
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable, Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
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

from ..errors import InputError
from ..safety import resource_path
from .filing import Office, _county_name
from .undated_pdf import UndatedCanvas

# --------------------------------------------------------------------------- fonts and text

# Liberation Serif (Times metrics, CRC 2.104), bundled under the SIL OFL in resources/fonts/ and
# embedded (subset) in every PDF: e-filing services and PDF/A want embedded fonts, and names
# such as NGUYỄN print as recorded instead of through a cp1252 standard font.
FONT, BOLD = "LiberationSerif", "LiberationSerif-Bold"
FONT_FILES = {FONT: "fonts/LiberationSerif-Regular.ttf", BOLD: "fonts/LiberationSerif-Bold.ttf"}


@lru_cache(maxsize=1)
def _fonts() -> frozenset[int]:
    """Register the bundled fonts once; return the code points both faces can print."""
    covered: frozenset[int] | None = None
    for name, rel in FONT_FILES.items():
        path = resource_path(rel)
        if not path.is_file():
            raise InputError(f"{path}: the bundled font is missing; reinstall ClearRec")
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(path)))
        face = set(pdfmetrics.getFont(name).face.charToGlyph)
        covered = frozenset(face) if covered is None else covered & face
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
    return covered | {0x0A}


_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def unprintable(text: object) -> list[str]:
    """The characters of ``text`` no bundled font can print (as U+XXXX), in order, once each."""
    covered = _fonts()
    out: list[str] = []
    for ch in _CONTROL.sub(" ", "" if text is None else str(text)):
        code = f"U+{ord(ch):04X}"
        if ord(ch) not in covered and code not in out:
            out.append(code)
    return out


def _t(value: object) -> str:
    """Text as the PDF prints it: control characters become spaces, and a character no bundled
    font has is shown as its code ([U+4E2D]) - visibly, never as a silent "?". Rows whose
    names need that are held out of court documents before they get here (see packet.py)."""
    text = _CONTROL.sub(" ", "" if value is None else str(value))
    covered = _fonts()
    if all(ord(ch) in covered for ch in text):
        return text
    return "".join(ch if ord(ch) in covered else f"[U+{ord(ch):04X}]" for ch in text)


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
                 first: str = "pleading", banner: str = "", keywords: str = ""):
        _fonts()  # registered on first use: a missing font file is then a clear error, not an import failure
        super().__init__(buf, pagesize=letter, invariant=1, title=_t(title), author=_t(author),
                         subject=_t(subject), keywords=_t(keywords), creator="ClearRec Desktop",
                         producer="ClearRec Desktop",
                         # start in the embedded font: the default (Helvetica) is not embedded
                         initialFontName=FONT, initialFontSize=12,
                         leftMargin=TEXT_X, rightMargin=PAGE_W - TEXT_X - TEXT_W,
                         topMargin=PAGE_H - FRAME_TOP, bottomMargin=FRAME_BOTTOM)
        self.footer_title = ""
        self.exhibit_label = ""
        self.bookmarks = 0
        self.audit_head = audit_head
        self.banner = banner  # e.g. "CONDITIONALLY LODGED UNDER SEAL ...", on every page
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
    def _banner(self, canv: Canvas, width: float, height: float) -> None:
        if self.banner:
            canv.saveState()
            canv.setFont(BOLD, 10)
            canv.drawCentredString(width / 2, height - 22, _t(self.banner))
            canv.restoreState()

    def _page_number(self, canv: Canvas, width: float) -> None:
        self._banner(canv, width, canv._pagesize[1])
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

        class _Canvas(UndatedCanvas):
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
    title on line 8, then the case title left and case number / nature of paper right. With a
    deputy, the deputy who reviewed and signs is named with their State Bar number."""
    attorney = [f"{_x(office.district_attorney.upper())} (SBN {_x(office.state_bar_number)})", "District Attorney"]
    if office.deputy:
        attorney += [f"{_x(office.deputy.upper())} (SBN {_x(office.deputy_state_bar_number)})",
                     "Deputy District Attorney"]
    attorney += [
        _x(office.office),
        *(_x(a) for a in office.address_lines),
        f"Tel. {_x(office.phone)}",
        _x(office.email),
        f"Attorney for {_x(office.attorney_for)}",
    ]
    block = Paragraph("<br/>".join(attorney), ParagraphStyle("atty", parent=SINGLE,
                                                             rightIndent=TEXT_W - (CLERK_SPACE_X - TEXT_X) + 6))
    court = office.court_title
    head, sep, tail = court.rpartition(", COUNTY OF ")
    court_lines = [head + ",", "COUNTY OF " + tail] if sep else [court]
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
        ("FONT", (0, 0), (-1, -1), FONT, 12, 12),  # the default cell font (Helvetica) is not embedded
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
             "By: ______________________________", _x(office.signer),
             f"{_x(office.signer_role)} (SBN {_x(office.signer_bar_number)})"]
    return [KeepTogether([lead, _p("Dated: ____________________", PLAIN), _p("<br/>".join(lines), SIGN)])]


def _dated_signature(right: Sequence[str]) -> _Snap:
    """"Dated: ____" on the left and a signature block on the right, single-spaced."""
    half = TEXT_W / 2
    table = Table([[Paragraph("<br/>" * (len(right) - 2) + "Dated: ____________", SINGLE),
                    Paragraph("<br/>".join(right), SINGLE)]], colWidths=[half, half])
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), FONT, 12, 12), ("VALIGN", (0, 0), (-1, -1), "TOP")] + [
        (f"{side}PADDING", (0, 0), (-1, -1), 0) for side in ("TOP", "BOTTOM", "LEFT", "RIGHT")]))
    return _Snap(table, keep=True)

# --------------------------------------------------------------------------- exhibits


@dataclass(frozen=True)
class ExhibitLayout:
    """Type size and columns of the exhibit tables. The standard layout is 12 pt (CRC 2.104),
    with related facts stacked in one cell so the table fits a landscape page; the compact
    9-pt layout, one fact per column, is for courts that accept it."""

    name: str
    size: float
    leading: float
    pad: float
    columns_a: tuple[tuple[str, float], ...]
    columns_b: tuple[tuple[str, float], ...]
    stacked: bool

    @property
    def max_lines(self) -> int:
        """Lines a row may take and still fit one page under the repeated header (a row never
        splits across pages, so a taller one is held out and listed in the cover report)."""
        header = 2 * self.leading + 2 * self.pad
        return int((EX_TOP - EX_BOTTOM - header - 2 * self.pad - 24) // self.leading)


STANDARD = ExhibitLayout(
    "standard", 12.0, 14.0, 3.0,
    (("No.", 34), ("Court case / courthouse", 132), ("Defendant (AKA)", 140), ("DOB / CII", 72),
     ("Conv. date / count", 72), ("Section / level", 82), ("Relief", 72), ("Basis", 80)),
    (("No.", 34), ("Court case / courthouse", 132), ("Defendant (AKA)", 140), ("DOB / CII", 72),
     ("Conv. date / count", 72), ("Section / level", 82), ("Ground and reason", 152)),
    True)
COMPACT = ExhibitLayout(
    "compact", 9.0, 10.5, 2.5,
    (("No.", 26), ("Court case", 60), ("Courthouse", 86), ("Defendant (AKA)", 104), ("DOB", 48), ("CII", 50),
     ("Conv. date", 48), ("Count", 30), ("Section as convicted", 60), ("Level", 26), ("Relief", 56),
     ("Basis", 90)),
    (("No.", 26), ("Court case", 60), ("Courthouse", 70), ("Defendant (AKA)", 104), ("DOB", 48), ("CII", 50),
     ("Conv. date", 48), ("Count", 30), ("Section as convicted", 54), ("Level", 26), ("Ground", 56),
     ("Reason", 112)),
    False)
LEVEL_WORDS = {"F": "felony", "M": "misdemeanor", "I": "infraction"}
REDACTED = "redacted"


def exhibit_cells(layout: ExhibitLayout, exhibit: str, row_no: int, case: str, courthouse: str, person: str,
                  dob: str, cii: str, conv_date: str, count: str, section: str, level: str,
                  tail: tuple[str, str], redact: bool) -> list[str]:
    """One exhibit row's cells in the layout's columns. ``tail`` is (relief, basis) for Exhibit A
    and (ground, reason) for Exhibit B. The public version prints "redacted" for date of birth
    and CII."""
    if redact:
        dob = cii = REDACTED
    if not layout.stacked:
        return [str(row_no), case, courthouse, person, dob, cii, conv_date, count, section, level, *tail]
    level_text = LEVEL_WORDS.get(level, level or "level unknown")
    cells = [str(row_no), f"{case}\n{courthouse}", person, f"{dob}\n{cii}", f"{conv_date}\ncount {count}",
             f"{section}\n{level_text}"]
    return cells + (list(tail) if exhibit == "A" else [f"{tail[0]}:\n{tail[1]}"])


def _hard_wrap(line: str, font: str, size: float, width: float) -> list[str]:
    """Break a line with no usable spaces (``11357(A)HS-POSSESS``) by characters."""
    out, cur = [], ""
    for ch in line:
        if cur and stringWidth(cur + ch, font, size) > width:
            out.append(cur)
            cur = ch.lstrip()
        else:
            cur += ch
    return out + [cur]


@lru_cache(maxsize=65536)
def wrap_text(text: str, width: float, size: float, bold: bool = False) -> tuple[str, ...]:
    """``text`` broken into lines no wider than ``width`` at ``size`` (never cut)."""
    font = BOLD if bold else FONT
    lines: list[str] = []
    for para in _t(text).split("\n"):
        for line in simpleSplit(para, font, size, width) or [""]:
            lines += _hard_wrap(line, font, size, width) if stringWidth(line, font, size) > width else [line]
    return tuple(lines)


def row_lines(layout: ExhibitLayout, columns: Sequence[tuple[str, float]], cells: Sequence[str]) -> int:
    """How many lines the tallest cell of a row takes."""
    return max(len(wrap_text(v, w - 2 * layout.pad, layout.size)) for v, (_, w) in zip(cells, columns))


def _exhibit_table(layout: ExhibitLayout, columns: Sequence[tuple[str, float]], rows: Iterable[list[str]]) -> Table:
    widths = [w for _, w in columns]
    size, leading, pad = layout.size, layout.leading, layout.pad
    header = []
    header_lines = 1
    for title, w in columns:
        lines = wrap_text(title, w - 2 * pad, size, True)
        header.append("\n".join(lines))
        header_lines = max(header_lines, len(lines))
    data = [header]
    heights = [header_lines * leading + 2 * pad]
    for row in rows:
        cells, most = [], 1
        for value, w in zip(row, widths):
            lines = wrap_text(value, w - 2 * pad, size)
            cells.append("\n".join(lines))
            most = max(most, len(lines))
        data.append(cells)
        heights.append(most * leading + 2 * pad)
    # splitByRow without splitInRow: a page break only ever falls between whole rows (rows too
    # tall for a page were held out before, see ExhibitLayout.max_lines).
    table = Table(data, colWidths=widths, rowHeights=heights, repeatRows=1, splitByRow=1, splitInRow=0)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), FONT, size, leading),
        ("FONT", (0, 0), (-1, 0), BOLD, size, leading),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.88, 0.88)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.3, colors.black),
        ("TOPPADDING", (0, 0), (-1, -1), pad),
        ("BOTTOMPADDING", (0, 0), (-1, -1), pad),
        ("LEFTPADDING", (0, 0), (-1, -1), pad),
        ("RIGHTPADDING", (0, 0), (-1, -1), pad),
    ]))
    return table
