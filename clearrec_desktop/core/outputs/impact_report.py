"""The impact report: its figures (impact_figures) and the PDF (build_impact_report), with
small counts suppressed as published."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path
from typing import Mapping, Sequence
from xml.sax.saxutils import escape as _xml_escape

import polars as pl

from .undated_pdf import UndatedCanvas
from .common import OUTCOMES, RELIEF_OUTCOMES, SUPPRESS_BELOW, SUPPRESSED, _output_path

# --------------------------------------------------------------------------------------------
# impact report: the figures first (impact_figures), then the PDF (build_impact_report)

OUTCOME_LABELS = {"dismiss": "Dismiss and seal", "reduce": "Reduce (redesignate)",
                  "review": "Attorney review", "ineligible": "Not eligible"}
LEVEL_LABELS = {"F": "Felony", "M": "Misdemeanor", "I": "Infraction", "": "Unknown"}
GENDER_LABELS = {"M": "Male", "F": "Female", "MALE": "Male", "FEMALE": "Female"}
PEOPLE_MEASURES = (
    ("with_relief", "People with some relief"),
    ("no_felony_left", "People left with no felony"),
    ("no_conviction_left", "People left with no conviction"),
    ("none_in_7_years", "People with no conviction in the last 7 years"),
)
BREAKDOWNS = (("race", "Race / ethnicity"), ("gender", "Gender"), ("age_band", "Age on the evaluation date"),
              ("decade", "Decade of conviction"))
# Breakdown columns, in table order; a table shows those its groups have.
BREAKDOWN_METRICS = (
    ("people", "People"),
    ("convictions", "Convictions"),
    ("with_relief", "People with relief"),
    ("no_felony_left", "People left with no felony"),
    ("no_conviction_left", "People left with no conviction"),
    ("convictions_relieved", "Convictions with relief"),
)


def pub(value) -> str:
    """A count as published: 1-10 become "<11" (as in summary.json "publishable"; zero
    discloses nothing and stays 0); text such as "<11" passes through; None is "n/a"."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return SUPPRESSED if 0 < value < SUPPRESS_BELOW else f"{int(value):,}"
    return str(value)


def _as_int(value) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _shown(value) -> int | None:
    """The number a published cell shows, or None when it shows none (suppressed, n/a)."""
    n = _as_int(value)
    if n is None and isinstance(value, str) and value.replace(",", "").isdigit():
        n = int(value.replace(",", ""))
    return None if n is None or 0 < n < SUPPRESS_BELOW else n


def _report_frame(results: pl.DataFrame, as_of: date | None) -> pl.DataFrame:
    """The columns the report computes from, dates parsed (results.csv may be read as text)."""
    from ..screen.summary import AGE_BANDS as age_bands

    def text(name: str) -> pl.Expr:
        return (pl.col(name).cast(pl.String) if name in results.columns else pl.lit(None, pl.String)).alias(name)

    def as_date(name: str) -> pl.Expr:
        if name in results.columns and results.schema[name] == pl.Date:
            return pl.col(name)
        return text(name).str.strip_chars().str.to_date("%Y-%m-%d", strict=False).alias(name)

    frame = results.select(*(text(c) for c in ("subject_id", "outcome", "code_section", "level", "race", "gender",
                                               "conviction_date_quality")),
                           as_date("conviction_date"), as_date("dob"))
    if as_of is not None:
        ref = pl.lit(as_of)
        age = (ref.dt.year().cast(pl.Int32) - pl.col("dob").dt.year().cast(pl.Int32)
               - ((ref.dt.month().cast(pl.Int32) * 100 + ref.dt.day().cast(pl.Int32))
                  < (pl.col("dob").dt.month().cast(pl.Int32) * 100 + pl.col("dob").dt.day().cast(pl.Int32))).cast(pl.Int32))
    else:
        age = pl.lit(None, pl.Int32)
    band = pl.lit("unknown")
    for lo, hi, label in reversed(age_bands):
        band = pl.when((age >= lo) & (age < hi)).then(pl.lit(label)).otherwise(band)
    decade = pl.when(pl.col("conviction_date").is_not_null()).then(
        (pl.col("conviction_date").dt.year() // 10 * 10).cast(pl.String) + pl.lit("s")).otherwise(pl.lit("unknown"))
    return frame.with_columns(
        band.alias("age_band"), decade.alias("decade"),
        pl.col("outcome").is_in(RELIEF_OUTCOMES).fill_null(False).alias("_relief"),
    )


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    grouped = frame.group_by(pl.col(column).fill_null("")).len().sort("len", column, descending=[True, False])
    return {k: int(n) for k, n in grouped.iter_rows()}


def _breakdown(frame: pl.DataFrame, dim: str) -> dict[str, dict[str, int]]:
    """Per group: people, convictions, people with some relief (not for decades: a person can
    have convictions in several), convictions with relief."""
    aggs = [pl.col("subject_id").n_unique().alias("people"), pl.len().alias("convictions")]
    if dim != "decade":
        aggs.append(pl.col("subject_id").filter(pl.col("_relief")).n_unique().alias("with_relief"))
    aggs.append(pl.col("_relief").sum().alias("convictions_relieved"))
    g = frame.group_by(pl.col(dim).fill_null("unknown")).agg(aggs)
    return {r[dim]: {k: int(v) for k, v in r.items() if k != dim} for r in g.iter_rows(named=True)}


def _brief_rule(text: str) -> str:
    """First sentence of a rule description plus its citation: "If ...: review. [HS 11361.8]"."""
    cite = re.search(r"\[([^\]]+)\]\s*$", text)
    rest = text[: cite.start()] if cite else text
    first = re.split(r"(?<=[a-z)\]])\.\s+(?=[A-Z])", rest.strip(), maxsplit=1)[0].strip().rstrip(".")
    return first + "." + (f" [{cite.group(1)}]" if cite else "")


def impact_figures(summary: dict, results: pl.DataFrame, *, rules: Sequence[str] | None = None) -> dict:
    """Every figure of the impact report, from summary.json where it has them ("publishable"
    first), computed from the results frame with polars otherwise. Conviction counts are raw
    numbers; people figures and breakdown cells may already be suppressed text ("<11")."""
    as_of = _iso_date(summary.get("as_of"))
    frame = _report_frame(results, as_of)
    conv = summary.get("convictions") or {}
    publishable = summary.get("publishable") or {}
    breakdowns = summary.get("breakdowns") or {}

    people = dict(summary.get("people") or {})
    people.update(publishable.get("people") or {})
    if people.get("with_conviction") is None:
        people["with_conviction"] = frame.select(pl.col("subject_id").n_unique()).item()
    if people.get("with_relief") is None:
        people["with_relief"] = frame.filter(pl.col("_relief")).select(pl.col("subject_id").n_unique()).item()
    everything = dict(summary.get("dismiss_everything") or {})
    everything["with_conviction"] = people["with_conviction"]
    if everything.get("with_relief") is None:  # dismissing everything relieves everyone screened
        everything["with_relief"] = people["with_conviction"]

    groups = {}
    for dim, _ in BREAKDOWNS:
        source = publishable.get(dim) or breakdowns.get(dim) or _breakdown(frame, dim)
        groups[dim] = {g: {k: pub(v) for k, v in (vals or {}).items()} for g, vals in source.items()}

    date_range = conv.get("date_range")
    if isinstance(date_range, (list, tuple)) and len(date_range) == 2:
        first, last = (_iso_date(d) for d in date_range)
    else:
        dated = frame.filter(pl.col("conviction_date_quality").is_null() | (pl.col("conviction_date_quality") == "full"))
        first, last = dated.select(pl.col("conviction_date").min().alias("a"), pl.col("conviction_date").max().alias("b")).row(0)

    profile = summary.get("profile") or {}
    if rules is None:
        rules = [_brief_rule(r) for r in profile.get("rules") or [] if isinstance(r, str)]
    inputs = summary.get("inputs") or []
    return {
        "county": summary.get("county") or "",
        "as_of": as_of,
        "profile": profile,
        "rules": list(rules),
        "inputs": inputs,
        "lines_read": sum(_as_int(f.get("lines_read")) or 0 for f in inputs),
        "rows_imported": sum(_as_int(f.get("rows_imported")) or 0 for f in inputs),
        "lines_rejected": sum(_as_int(f.get("lines_rejected")) or 0 for f in inputs),
        "first_conviction": first,
        "last_conviction": last,
        "total": conv.get("total") if conv.get("total") is not None else frame.height,
        "by_outcome": conv.get("by_outcome") or _counts(frame, "outcome"),
        "by_section": conv.get("by_section") or _counts(frame, "code_section"),
        "by_level": conv.get("by_level") or _counts(frame, "level"),
        "people": people,
        "dismiss_everything": everything,
        "groups": groups,
        "publishable_note": publishable.get("note"),
        "reconciliation": _reconciliation_figures(summary, results),
    }


RECONCILIATION_LISTS = (("county_only", "Found in the county's records only (not on DOJ's list)"),
                        ("doj_only", "On DOJ's list only (no county record found)"),
                        ("both_disagreeing", "In both, recorded differently"),
                        ("both", "In both, recorded alike"))


def _reconciliation_figures(summary: dict, results: pl.DataFrame) -> dict | None:
    """A reconciliation's figures (issue 15): each list's count, county-only convictions by
    section and decade, people newly relieved, and each list by courthouse; None for a run
    that is not a reconciliation."""
    rec = summary.get("reconciliation")
    if not isinstance(rec, dict) or "provenance" not in results.columns:
        return None
    keys = [k for k, _ in RECONCILIATION_LISTS]
    frame = results.select(pl.col("courthouse").fill_null("Not recorded") if "courthouse" in results.columns
                           else pl.lit("Not recorded").alias("courthouse"), "provenance")
    by_court = (frame.group_by("courthouse").agg([(pl.col("provenance") == k).sum().alias(k) for k in keys])
                .sort("courthouse"))
    return {
        "lists": {k: int((rec.get("lists") or {}).get(k, 0)) for k in keys},
        "by_section": dict(rec.get("county_only_by_section") or {}),
        "by_decade": dict(rec.get("county_only_by_decade") or {}),
        "people_newly_relieved": rec.get("people_newly_relieved"),
        "by_courthouse": {r["courthouse"]: {k: int(r[k]) for k in keys} for r in by_court.iter_rows(named=True)},
    }


def _iso_date(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _fmt_date(d) -> str:
    if isinstance(d, date):
        return f"{d:%B} {d.day}, {d.year}"
    return str(d) if d else "unknown"


def _is_unknown(group: str) -> bool:
    return group.strip().lower() in ("", "unknown", "(blank)", "null")


def _group_order(dim: str, groups: Mapping[str, Mapping]) -> list[str]:
    """Age bands and decades in their natural order, other groups largest first; unknown last."""
    def key(g: str):
        low = g.strip().lower()
        if dim in ("age_band", "decade"):
            m = re.search(r"\d+", low)
            n = -1 if low.startswith("under") else (int(m.group()) if m else 10**6)
            return (_is_unknown(g), n, low)
        return (_is_unknown(g), -(_shown(groups[g].get("people")) or 0), low)
    return sorted(groups, key=key)


def _group_label(dim: str, g: str) -> str:
    if _is_unknown(g):
        return "Unknown"
    if dim == "gender":
        return GENDER_LABELS.get(g.strip().upper(), g.title())
    if dim == "race":
        return g.title()
    return g[:1].upper() + g[1:]


def build_impact_report(
    summary: dict,
    results: pl.DataFrame,
    *,
    audit_head: str | None = None,
    rules: Sequence[str] | None = None,
    filing_progress: Mapping | None = None,
) -> bytes:
    """The impact report for publication, as PDF bytes. Every count from 1 to 10 is shown as
    "<11" in tables and charts alike, and no figure is shown from which one could be derived
    (rates need both counts shown). ``rules`` are the profile's rules in brief, one line each;
    by default the first sentence of each rule recorded in summary.json. ``filing_progress``:
    ``Workspace.progress_figures()`` (status, month, courthouse), published suppressed too."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, Rect, String
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import (
        CondPageBreak,
        KeepTogether,
        ListFlowable,
        ListItem,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    fig = impact_figures(summary, results, rules=rules)
    navy = colors.HexColor("#1F3A5F")
    accent = colors.HexColor("#2E7D6B")
    light = colors.HexColor("#9FB4CC")
    axis_grey = colors.HexColor("#8A96A3")
    pale = colors.HexColor("#EEF3F8")
    rule_grey = colors.HexColor("#C8D0DA")
    text_grey = colors.HexColor("#4A5563")
    width = LETTER[0] - 1.6 * inch

    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName="Helvetica", fontSize=9.5, leading=13)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10.5, textColor=text_grey)
    kicker = ParagraphStyle("kicker", parent=body, fontName="Helvetica-Bold", fontSize=10, textColor=accent)
    h1 = ParagraphStyle("h1", parent=body, fontName="Helvetica-Bold", fontSize=20, leading=24, textColor=navy,
                        spaceAfter=4)
    h2 = ParagraphStyle("h2", parent=body, fontName="Helvetica-Bold", fontSize=13, leading=16, textColor=navy,
                        spaceBefore=12, spaceAfter=6)
    h3 = ParagraphStyle("h3", parent=body, fontName="Helvetica-Bold", fontSize=10.5, leading=13, textColor=navy,
                        spaceBefore=8, spaceAfter=4)
    head_cell = ParagraphStyle("head_cell", parent=body, fontName="Helvetica-Bold", fontSize=8, leading=9.5,
                               textColor=colors.white, alignment=TA_RIGHT)
    tile_num = ParagraphStyle("tile_num", parent=body, fontName="Helvetica-Bold", fontSize=18, leading=22,
                              textColor=navy)
    tile_label = ParagraphStyle("tile_label", parent=small, leading=10)

    def p(text: str, style=body) -> Paragraph:
        return Paragraph(_xml_escape(text), style)

    def share(n, of) -> str:
        n, of = _shown(n), _shown(of)
        return f"{100 * n / of:.1f}%" if n is not None and of else ""

    def table(rows: list[list], widths: list[float], *, bold_last: bool = False) -> Table:
        t = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
        style = [
            ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
            ("FONT", (0, 1), (-1, -1), "Helvetica", 8.5),
            ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
            ("BACKGROUND", (0, 0), (-1, 0), navy),
            ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, rule_grey),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
        style += [("BACKGROUND", (0, r), (-1, r), pale) for r in range(2, len(rows), 2)]
        if bold_last:
            style += [("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 8.5), ("LINEABOVE", (0, -1), (-1, -1), 0.8, navy)]
        t.setStyle(TableStyle(style))
        return t

    def note_if_suppressed(*tables: list[list]) -> list:
        if any(c == SUPPRESSED for rows in tables for row in rows for c in row):
            return [Spacer(1, 2), p("\u201c<11\u201d: from 1 to 10, not shown to protect privacy.", small)]
        return []

    def side_by_side(left, right, widths) -> Table:
        return Table([[left, right]], colWidths=widths, hAlign="LEFT",
                     style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])

    def bar_chart(title: str, labels: list[str], series: list[list], names: list[str], w: float, h: float,
                  palette: list) -> Drawing:
        """Horizontal bars labelled with their published value; a suppressed value has no bar."""
        d = Drawing(w, h)
        d.add(String(0, h - 11, title, fontName="Helvetica-Bold", fontSize=9.5, fillColor=navy))
        legend_h = 14 if len(series) > 1 else 0
        chart = HorizontalBarChart()
        chart.x, chart.y = 118, 18 + legend_h
        chart.width, chart.height = w - chart.x - 40, h - 34 - legend_h
        # within a group the first series is drawn lowest: reverse so groups read like the legend
        order = list(reversed(range(len(series))))
        chart.data = [[_shown(v) or 0 for v in series[i]] for i in order]
        chart.barLabelFormat = "values"
        chart.barLabelArray = [[pub(v) for v in series[i]] for i in order]
        chart.barLabels.fontName = "Helvetica"
        chart.barLabels.fontSize = 7
        chart.barLabels.boxAnchor = "w"
        chart.barLabels.dx = 3
        chart.categoryAxis.categoryNames = labels
        chart.categoryAxis.labels.fontName = "Helvetica"
        chart.categoryAxis.labels.fontSize = 7.5
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.categoryAxis.labels.dx = -4
        chart.categoryAxis.reverseDirection = 1
        chart.categoryAxis.strokeColor = axis_grey
        chart.valueAxis.valueMin = 0
        chart.valueAxis.valueMax = max([v for s in chart.data for v in s] + [10]) * 1.18
        chart.valueAxis.labels.fontName = "Helvetica"
        chart.valueAxis.labels.fontSize = 6.5
        chart.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
        chart.valueAxis.strokeColor = axis_grey
        chart.valueAxis.visibleGrid = 1
        chart.valueAxis.gridStrokeColor = colors.HexColor("#E3E8EE")
        chart.valueAxis.gridStrokeWidth = 0.4
        chart.groupSpacing = 6
        chart.barSpacing = 1
        for j, i in enumerate(order):
            chart.bars[j].fillColor = palette[i]
            chart.bars[j].strokeColor = None
        d.add(chart)
        x = chart.x
        for name, color in zip(names if len(series) > 1 else (), palette):
            d.add(Rect(x, 2, 8, 8, fillColor=color, strokeColor=None))
            d.add(String(x + 11, 3, name, fontName="Helvetica", fontSize=7.5, fillColor=colors.black))
            x += 25 + len(name) * 4.1
        return d

    county = fig["county"].title() if fig["county"] else "County"
    profile = fig["profile"]
    profile_title = profile.get("title") or profile.get("id") or "not recorded"
    people, everything, total = fig["people"], fig["dismiss_everything"], fig["total"]
    by_outcome = fig["by_outcome"]
    story: list = []

    # --- page 1: the headline figures
    story += [
        p(f"{county.upper()} COUNTY", kicker),
        p("Cannabis Conviction Relief: Impact Report", h1),
        p(f"Proposition 64 relief under Health and Safety Code sections 11361.8 and 11361.9. Evaluation date "
          f"{_fmt_date(fig['as_of'])}. Policy: {profile_title}.", body),
        Spacer(1, 10),
    ]
    tiles = [(total, "cannabis convictions screened"),
             (people.get("with_conviction"), "people with a cannabis conviction"),
             (people.get("with_relief"), "people receiving some relief"),
             (people.get("no_conviction_left"), "people left with no conviction")]
    story.append(Table([[[p(pub(n), tile_num), p(label, tile_label)] for n, label in tiles]],
                       colWidths=[width / 4] * 4, hAlign="LEFT", style=[
                           ("BACKGROUND", (0, 0), (-1, -1), pale),
                           ("LINEABOVE", (0, 0), (-1, 0), 2, accent),
                           ("LINEAFTER", (0, 0), (-2, 0), 3, colors.white),
                           ("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 8),
                           ("TOPPADDING", (0, 0), (-1, -1), 7),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))

    story.append(p("Outcome of every conviction screened", h2))
    outcome_rows = [["Outcome", "Convictions", "Share"]]
    outcome_rows += [[OUTCOME_LABELS[o], pub(by_outcome.get(o, 0)), share(by_outcome.get(o, 0), total)] for o in OUTCOMES]
    outcome_rows.append(["Total", pub(total), ""])
    story.append(side_by_side(
        [table(outcome_rows, [1.55 * inch, 0.85 * inch, 0.6 * inch], bold_last=True), *note_if_suppressed(outcome_rows)],
        bar_chart("Convictions by outcome", [OUTCOME_LABELS[o] for o in OUTCOMES],
                  [[by_outcome.get(o, 0) for o in OUTCOMES]], ["Convictions"], 3.4 * inch, 1.65 * inch, [navy]),
        [3.25 * inch, width - 3.25 * inch]))

    story.append(p("What relief means for people", h2))
    story.append(p("A person is counted once however many convictions they have, and their whole record is "
                   "considered. The comparison shows the same figures if every cannabis conviction screened "
                   "were dismissed.", small))
    story.append(Spacer(1, 4))
    people_rows = [["Measure", "This policy", "Dismiss everything", "Difference"],
                   ["People with a cannabis conviction", pub(people.get("with_conviction")),
                    pub(everything.get("with_conviction")), ""]]
    for key, label in PEOPLE_MEASURES:
        a, b = _shown(people.get(key)), _shown(everything.get(key))
        diff = "" if a is None or b is None else (f"{b - a:+,}" if b - a == 0 or abs(b - a) >= SUPPRESS_BELOW else SUPPRESSED)
        people_rows.append([label, pub(people.get(key)), pub(everything.get(key)), diff])
    story.append(table(people_rows, [3.1 * inch, 1.1 * inch, 1.35 * inch, 1.1 * inch]))
    story += note_if_suppressed(people_rows)
    story.append(Spacer(1, 8))
    story.append(bar_chart(
        "People: this policy compared with dismissing everything",
        ["With some relief", "Left with no felony", "Left with no conviction", "None in the last 7 years"],
        [[people.get(k) for k, _ in PEOPLE_MEASURES], [everything.get(k) for k, _ in PEOPLE_MEASURES]],
        ["This policy", "Dismiss everything"], width, 2.1 * inch, [navy, light]))

    # --- the data and the policy
    story.append(CondPageBreak(3 * inch))
    story.append(p("The data", h2))
    n_files = len(fig["inputs"])
    story.append(p(
        f"Criminal-history records of every person with a cannabis conviction in {county} County "
        f"({n_files} input file{'s' if n_files != 1 else ''}), screened as of {_fmt_date(fig['as_of'])}. "
        f"Convictions screened are dated from {_fmt_date(fig['first_conviction'])} to "
        f"{_fmt_date(fig['last_conviction'])}. {fig['lines_read']:,} lines read, {fig['rows_imported']:,} record "
        f"rows imported, {fig['lines_rejected']:,} malformed lines set aside.", body))
    story.append(Spacer(1, 4))
    file_rows = [["Input file", "Lines read", "Rows imported", "Lines rejected"]]
    for f in fig["inputs"]:
        file_rows.append([str(f.get("file", "")), *(f"{_as_int(f.get(k)):,}" if _as_int(f.get(k)) is not None else ""
                                                     for k in ("lines_read", "rows_imported", "lines_rejected"))])
    story.append(table(file_rows, [3.1 * inch, 1.1 * inch, 1.1 * inch, 1.1 * inch]))

    rec = fig.get("reconciliation")
    if rec:
        # DOJ's list against the county's own records (issue 15)
        list_rows = [["List", "Convictions"]] + [[label, pub(rec["lists"].get(k, 0))] for k, label in RECONCILIATION_LISTS]
        court_rows = [["Courthouse", "County only", "DOJ only", "Recorded differently", "Alike"]] + [
            [court, *(pub(v.get(k, 0)) for k, _ in RECONCILIATION_LISTS)] for court, v in rec["by_courthouse"].items()]
        found = ", ".join(f"{k}: {pub(v)}" for k, v in sorted(rec["by_section"].items())) or "none"
        decades = ", ".join(f"{k}: {pub(v)}" for k, v in sorted(rec["by_decade"].items())) or "none"
        story.append(KeepTogether([
            p("DOJ's list compared with the county's own records", h2),
            p("The county's own case records were compared with the Department of Justice's list. Convictions "
              "found in the county's records only were screened with the same policy; people newly relieved "
              f"(a conviction DOJ's list missed dismissed or reduced): {pub(rec.get('people_newly_relieved'))}. "
              f"Found in the county's records only, by code section: {found}; by decade: {decades}.", body),
            Spacer(1, 4), table(list_rows, [4.0 * inch, 1.1 * inch]), Spacer(1, 6),
            table(court_rows, [2.3 * inch, 0.95 * inch, 0.95 * inch, 1.25 * inch, 0.8 * inch]),
            *note_if_suppressed(list_rows, court_rows)]))

    sections = sorted(fig["by_section"].items(), key=lambda kv: (_is_unknown(kv[0]), kv[0]))
    section_label = {k: "Unknown" if _is_unknown(k) else k for k, _ in sections}
    section_rows = [["Code section", "Convictions"]] + [[section_label[k], pub(v)] for k, v in sections]
    levels = sorted(fig["by_level"].items(), key=lambda kv: ("FMI".find(kv[0]) if kv[0] in ("F", "M", "I") else 9, kv[0]))
    level_rows = [["Level", "Convictions"]] + [
        [LEVEL_LABELS.get(k) or ("Unknown" if _is_unknown(k) else k), pub(v)] for k, v in levels]
    right = [table(level_rows, [1.3 * inch, 0.9 * inch])]
    if sections:
        right += [Spacer(1, 10), bar_chart("Convictions by code section", [section_label[k] for k, _ in sections],
                                           [[v for _, v in sections]], ["Convictions"], width - 2.75 * inch,
                                           max(1.2, 0.35 + 0.2 * len(sections)) * inch, [accent])]
    story.append(KeepTogether([
        p("Convictions by code section and level", h2),
        side_by_side(table(section_rows, [1.6 * inch, 0.9 * inch]), right, [2.75 * inch, width - 2.75 * inch]),
        *note_if_suppressed(section_rows, level_rows)]))

    story.append(p("The policy applied", h2))
    story.append(p(f"Profile: {profile_title}" + (f" ({profile['id']})" if profile.get("id") else "")
                   + ". Rules are applied in order to each conviction; the first that matches decides.", body))
    if fig["rules"]:
        story.append(ListFlowable([ListItem(p(r, small), leftIndent=14) for r in fig["rules"]], bulletType="1",
                                  bulletFontSize=8, leftIndent=16))

    # --- who is affected
    intro = [p("Who is affected", h2),
             p("People with a cannabis conviction screened, their convictions, and what relief means for them, "
               "by group.", small)]
    for dim, title in BREAKDOWNS:
        groups = fig["groups"].get(dim) or {}
        if not groups:
            continue
        order = _group_order(dim, groups)
        metrics = [(k, label) for k, label in BREAKDOWN_METRICS if any(k in v for v in groups.values())]
        if any(k == "with_relief" for k, _ in metrics):
            metrics = [m for m in metrics if m[0] != "convictions_relieved"]
            rate = ("with_relief", "people", "Relief rate (people)")
        else:
            rate = ("convictions_relieved", "convictions", "Share relieved")
        rows = [[title] + [label for _, label in metrics] + [rate[2]]]
        for g in order:
            v = groups[g]
            rows.append([_group_label(dim, g), *(pub(v.get(k)) for k, _ in metrics), share(v.get(rate[0]), v.get(rate[1]))])
        n_num = len(rows[0]) - 1
        label_w = min(2.0 * inch, width - n_num * 0.8 * inch)
        t = table([[p(rows[0][0], ParagraphStyle("hl", parent=head_cell, alignment=0))]
                   + [p(h, head_cell) for h in rows[0][1:]]] + rows[1:],
                  [label_w] + [(width - label_w) / n_num] * n_num)
        story.append(KeepTogether([*intro, p(f"By {title[0].lower() + title[1:]}", h3), t, *note_if_suppressed(rows)]))
        intro = []
        if dim == "race":
            shown = [g for g in order if _shown(groups[g].get("people")) is not None and not _is_unknown(g)]
            if shown and any("with_relief" in groups[g] for g in shown):
                story += [Spacer(1, 8), bar_chart(
                    "People and people with some relief, by race / ethnicity", [_group_label(dim, g) for g in shown],
                    [[groups[g].get("people") for g in shown], [groups[g].get("with_relief") for g in shown]],
                    ["People", "People with some relief"], width, max(1.5, 0.45 + 0.3 * len(shown)) * inch,
                    [navy, accent])]

    if filing_progress:
        story += _progress_section(filing_progress, p, h2, h3, table, note_if_suppressed, width)

    notes = [
        "Counts from 1 to 10 are shown as \u201c<11\u201d to protect the privacy of the people concerned, and "
        "charts draw no bar for them; rates are given only where both counts are shown.",
        "People figures look at each person's whole record. A person can appear in more than one decade of "
        "conviction. \u201cAttorney review\u201d convictions await a prosecutor's decision and may still "
        "receive relief.",
    ]
    if fig.get("publishable_note"):
        notes.append(f"Suppression rule recorded with the run: {fig['publishable_note']}.")
    run_line = f"Screening run: {summary.get('tool') or 'clearrec'} {summary.get('version') or ''}".rstrip()
    head = audit_head or summary.get("audit_head")
    if head:
        run_line += f"; audit chain head {head}"
    story.append(Spacer(1, 10))
    story.append(KeepTogether([p("About these figures", h3), *(p(n, small) for n in notes), Spacer(1, 3),
                               p(run_line + ".", small)]))

    footer = f"{county} County \u00b7 Cannabis conviction relief impact report \u00b7 evaluation date {_fmt_date(fig['as_of'])}"

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setStrokeColor(rule_grey)
        canvas.setLineWidth(0.5)
        canvas.line(doc.leftMargin, 0.6 * inch, LETTER[0] - doc.rightMargin, 0.6 * inch)
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(text_grey)
        canvas.drawString(doc.leftMargin, 0.45 * inch, footer)
        canvas.drawRightString(LETTER[0] - doc.rightMargin, 0.45 * inch, f"Page {doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=LETTER, leftMargin=0.8 * inch, rightMargin=0.8 * inch, topMargin=0.7 * inch,
        bottomMargin=0.85 * inch, title=f"{county} County cannabis conviction relief impact report",
        author=f"{county} County", subject="Proposition 64 relief (HS 11361.8, 11361.9)", creator="ClearRec",
        invariant=1,  # same run, same bytes: no random document id (and no date: UndatedCanvas)
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page, canvasmaker=UndatedCanvas)
    return buf.getvalue()


def _progress_section(fp: Mapping, p, h2, h3, table, note_if_suppressed, width) -> list:
    """Progress after filing: convictions by status, rulings, by courthouse and by month, every
    count published through ``pub`` (1-10 shown as "<11")."""
    from reportlab.platypus import KeepTogether

    from ..workspace.filings import RULING_LABELS, RULINGS, STATUS_LABELS, STATUSES

    out: list = [p("Progress after filing", h2),
                 p("Where each cannabis conviction stands, from screening to the court's order and its report to "
                   "the Department of Justice.")]
    by_status = fp.get("by_status") or {}
    rows = [["Status", "Convictions"]] + [[STATUS_LABELS[s], pub(by_status.get(s, 0))] for s in STATUSES]
    rulings = fp.get("rulings") or {}
    ruled = [["Court ruling", "Convictions"]] + [[RULING_LABELS[r].capitalize(), pub(rulings.get(r, 0))]
                                                 for r in RULINGS]
    out.append(KeepTogether([p("By status", h3), table(rows, [width * 0.6, width * 0.25]),
                             p("Court rulings", h3), table(ruled, [width * 0.6, width * 0.25]),
                             *note_if_suppressed(rows, ruled)]))
    short = {"screened": "Screened", "decided": "Decided", "filed": "Filed", "ruled": "Ruled",
             "reported_to_doj": "Reported to DOJ"}
    for key, title, first in (("by_courthouse", "By courthouse", "Courthouse"),
                              ("by_month", "By month the step was reached", "Month")):
        groups = fp.get(key) or {}
        if not groups:
            continue
        names = sorted(groups)[-24:] if key == "by_month" else sorted(groups)
        grid = [[first, *(short[s] for s in STATUSES)]] + [
            [g, *(pub((groups[g] or {}).get(s, 0)) for s in STATUSES)] for g in names]
        label_w = width * 0.34
        out.append(KeepTogether([p(title, h3), table(grid, [label_w] + [(width - label_w) / len(STATUSES)] * len(STATUSES)),
                                 *note_if_suppressed(grid)]))
    return out


def write_impact_report(summary: dict, results: pl.DataFrame, path: str | Path, *,
                        audit_head: str | None = None, rules: Sequence[str] | None = None,
                        filing_progress: Mapping | None = None) -> Path:
    out = _output_path(path, "impact report")
    out.write_bytes(build_impact_report(summary, results, audit_head=audit_head, rules=rules,
                                        filing_progress=filing_progress))
    return out
