"""What the court receives, on pleading paper: the bulk motion packet (a version lodged
conditionally under seal and a public, redacted version), per-case motions and orders (PDF, and
each order as an editable .docx), the notice of challenge and the cover report. Layout lives in
pleading.py; selection in filing.py; ``build_filing`` puts a whole filing together.

The text follows the filing's posture (filing.POSTURES) and each row's legal basis: relief
under HS 11361.8 is never claimed for a row the office relieves on its own criteria.

Everything is built in memory and written only to the paths the user chose: no temporary
files of records, ever."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Sequence

import polars as pl
from reportlab.platypus import KeepTogether, NextPageTemplate, PageBreak, Paragraph

from ..errors import Cancelled, InputError
from ..safety import local_path
from .court_update import court_update_csv, court_update_rows, court_update_xlsx, write_bytes
from .filing import (
    DEADLINE_11361_9,
    GROUNDS,
    GROUP_COUNTS,
    GROUPS,
    INCLUSIONS,
    LEFT_OUT,
    ORDERS_DEADLINE_AB1706,
    POSTURES,
    FilingOptions,
    Office,
    Selection,
    _check_selection,
    _county_name,
    load_office,
    select_for_filing,
)
from .pleading import (
    BODY,
    COMPACT,
    HEAD,
    ITEM,
    LEVEL_WORDS,
    PLAIN,
    REPORT,
    REPORT_HEAD,
    SIGN,
    STANDARD,
    SUBHEAD,
    TEXT_W,
    ExhibitLayout,
    _bookmark,
    _caption,
    _case_no,
    _count_no,
    _Doc,
    _exhibit_label,
    _exhibit_table,
    _footer,
    _gap,
    _long_date,
    _n,
    _new_page,
    _p,
    _parties,
    _signature,
    _x,
    exhibit_cells,
    row_lines,
    unprintable,
    wrap_text,
)

CHALLENGE_TITLE = (
    "PEOPLE'S NOTICE OF CHALLENGE TO RELIEF UNDER HEALTH AND SAFETY CODE SECTION 11361.8 "
    "(Health & Saf. Code, § 11361.9)"
)
PROOF_TITLE = "PROOF OF SERVICE"
SEALED_BANNER = "CONDITIONALLY LODGED UNDER SEAL (Cal. Rules of Court, rules 2.550-2.551)"
PUBLIC_BANNER = "PUBLIC VERSION - dates of birth and CII numbers redacted"
VERSION_SUFFIX = {"sealed": "lodged-under-seal", "public": "public-redacted"}
MAX_NAME_LINES = 20    # a caption's party block: more than this and the case goes to the cover report
MAX_FILE_STEM = 80     # file names stay short enough for every file system and zip tool


def motion_title(options: FilingOptions, *, policy: bool = False) -> str:
    if options.posture == "doj_list":
        return ("PEOPLE'S RESPONSE TO THE DEPARTMENT OF JUSTICE'S LIST AND MOTION TO DISMISS AND SEAL, OR "
                "REDESIGNATE, CANNABIS CONVICTIONS (Health & Saf. Code, §§ 11361.8, 11361.9)")
    if options.posture == "supplemental":
        return ("PEOPLE'S SUPPLEMENTAL MOTION TO DISMISS AND SEAL, OR REDESIGNATE, CANNABIS CONVICTIONS NOT ON THE "
                "DEPARTMENT OF JUSTICE'S LIST (Health & Saf. Code, § 11361.8" + ("; Pen. Code, § 1385)" if policy else ")"))
    return ("PEOPLE'S RESPONSE TO PETITION OR APPLICATION FOR RELIEF (Health & Saf. Code, § 11361.8"
            + ("; Pen. Code, § 1385)" if policy else ")"))


def order_title(options: FilingOptions) -> str:
    return "[PROPOSED] ORDER ON " + motion_title(options).split(" (Health")[0].replace("PEOPLE'S ", "THE PEOPLE'S ") + \
        " (Health & Saf. Code, § 11361.8)"


def per_case_title(options: FilingOptions) -> str:
    if options.posture == "petition":
        return "PEOPLE'S RESPONSE TO PETITION OR APPLICATION FOR RELIEF (Health & Saf. Code, § 11361.8)"
    return "PEOPLE'S MOTION FOR RELIEF IN THIS CASE (Health & Saf. Code, § 11361.8)"


PER_CASE_ORDER_TITLE = "[PROPOSED] ORDER FOR RELIEF (Health & Saf. Code, § 11361.8)"


@dataclass
class Context:
    """What every document of one filing shares besides its rows."""

    office: Office
    options: FilingOptions
    as_of: date | str
    sources: list[str]
    profile_title: str | None = None
    audit_head: str | None = None
    rejected_lines: int | None = None
    rejected_where: str = "the import report"

    @property
    def layout(self) -> ExhibitLayout:
        return COMPACT if self.options.compact else STANDARD

    def keywords(self, version: str | None = None) -> str:
        meta = self.options.metadata()
        parts = [f"{k}={v}" for k, v in meta.items() if v not in (None, "")]
        if version:
            parts.append(f"version={version}")
        return "; ".join(parts)


# --------------------------------------------------------------------------- rows


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


def _person(r: dict) -> str:
    name = r["primary_name"] or r["name"]
    return name + (f"\nAKA {r['aka']}" if r["aka"] else "")


def _section(r: dict) -> str:
    """The section as convicted (as corrected by a decision): canonical form, with a qualifier."""
    section = r["code_section"] or r["code_section_original"]
    return f"{section} ({r['qualifier']})" if r["qualifier"] else section


def _relief_text(r: dict) -> str:
    if r["group"] == "resentence":
        return "Resentence: " + ("infraction" if r["filing_relief"] == "reduce_to_infraction" else "misdemeanor")
    if r["group"] == "redesignate_policy":
        return "Redesignate: " + ("infraction" if r["filing_relief"] == "reduce_to_infraction" else "misdemeanor")
    return GROUPS[r["group"]][1]


def _cells(layout: ExhibitLayout, exhibit: str, r: dict, row_no: int, tail: tuple[str, str], redact: bool) -> list[str]:
    return exhibit_cells(layout, exhibit, row_no, r["court_case_number"], r["courthouse"] or "(not recorded)",
                         _person(r), r["dob"], r["cii_number"], r["conviction_date"], _count_no(r["count_key"]),
                         _section(r), r["level"], tail, redact)


def _a_tail(r: dict) -> tuple[str, str]:
    return _relief_text(r), r["basis"]


def _b_tail(r: dict) -> tuple[str, str]:
    return GROUNDS[r["ground"]], r["ground_reason"]


def hold_unprintable(selection: Selection, layout: ExhibitLayout = STANDARD) -> Selection:
    """Rows a court document cannot print as the records hold them leave the filing for the
    cover report: a character no bundled font has (never replaced by "?"), or a row too tall
    for one exhibit page or a caption."""
    held: dict[str, tuple[str, str]] = {}
    for frame, exhibit, columns in ((selection.granted, "A", layout.columns_a),
                                    (selection.challenged, "B", layout.columns_b)):
        if frame.height == 0:
            continue
        for r in frame.iter_rows(named=True):
            printed = (r["primary_name"], r["name"], r["aka"], r["court_case_number"], r["courthouse"],
                       r["code_section"], r["code_section_original"])
            codes: list[str] = []
            for value in printed:
                codes += [c for c in unprintable(value) if c not in codes]
            if codes:
                held[r["conviction_id"]] = ("unprintable", "No bundled font has the character(s) "
                                            + ", ".join(codes) + " of this row's name or case data; file it by hand "
                                            "or correct the name as charged")
                continue
            tail = _a_tail(r) if exhibit == "A" else _b_tail(r)
            cells = _cells(layout, exhibit, r, 1, tail, redact=False)
            lines = row_lines(layout, columns, cells)
            caption_lines = len(wrap_text(_person(r), TEXT_W / 2 - 12, 12))
            if lines > layout.max_lines or caption_lines > MAX_NAME_LINES:
                held[r["conviction_id"]] = ("too_long", f"The row needs {max(lines, caption_lines):,} printed lines "
                                            f"({len(_person(r)):,} characters of name and AKA): more than a page holds")
    return selection.hold(held)


# --------------------------------------------------------------------------- exhibits


def _exhibit_a(granted: pl.DataFrame, layout: ExhibitLayout, redact: bool) -> list:
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
        rows = []
        for r in frame.iter_rows(named=True):
            row_no += 1
            rows.append(_cells(layout, "A", r, row_no, _a_tail(r), redact))
        story += [_exhibit_label(f"EXHIBIT A-{part}: {label} (Exhibit A rows {row_no - frame.height + 1}-{row_no})"),
                  _bookmark(f"Exhibit A-{part}: {label}", 1),
                  _exhibit_table(layout, layout.columns_a, rows)]
    return story


def _exhibit_b(challenged: pl.DataFrame, layout: ExhibitLayout, redact: bool) -> list:
    story: list = _new_page("exhibit") + [
        _exhibit_label("EXHIBIT B - CONVICTIONS THE PEOPLE CHALLENGE (Health & Saf. Code, § 11361.9)"),
        _bookmark("Exhibit B - challenged convictions")]
    if challenged.height == 0:
        story.append(Paragraph("No convictions are challenged.", REPORT))
        return story
    rows = [_cells(layout, "B", r, i, _b_tail(r), redact) for i, r in enumerate(challenged.iter_rows(named=True), start=1)]
    story.append(_exhibit_table(layout, layout.columns_b, rows))
    return story


# --------------------------------------------------------------------------- posture texts


def _posture_notice(ctx: Context, granted: pl.DataFrame, challenged: pl.DataFrame) -> list[str]:
    """The opening paragraphs of the notice: where this filing stands in time."""
    o = ctx.options
    people_a, cases_a = _people_and_cases(granted)
    people_b, cases_b = _people_and_cases(challenged)
    policy = bool(granted.height) and granted["relief_basis"].str.starts_with("policy_").any()
    county = _county_name(ctx.office.county)
    out: list[str] = []
    if o.posture == "doj_list":
        out.append(f"Under Health and Safety Code section 11361.9 the Department of Justice sent the People its list of "
                   f"convictions in {_x(county)} County that may be eligible for relief under section 11361.8. The "
                   f"People received the list on {_x(_long_date(o.doj_list_received))}.")
        if o.late:
            after = ("; the list itself was received after that date" if o.doj_list_received > DEADLINE_11361_9 else "")
            out.append("Section 11361.9 gave the People until July 1, 2020 to review the list and to challenge relief. "
                       f"This response is made after that date{after}. It is not a timely review under section 11361.9: "
                       "for each conviction on the list that the People did not challenge by July 1, 2020, the statute "
                       "directs the Court to grant relief, and Assembly Bill 1706 (2022) required the Court to issue those "
                       f"orders by {_long_date(ORDERS_DEADLINE_AB1706)}. The People ask the Court to grant the relief in "
                       "Exhibit A to the extent it has not already done so.")
        else:
            out.append("This response is made by July 1, 2020, the date section 11361.9 set for the People's review.")
    elif o.posture == "supplemental":
        out.append("The convictions in this motion are not on the list the Department of Justice sent under Health and "
                   "Safety Code section 11361.9. The People found them in the records described in the declaration "
                   "below. Relief under section 11361.8 has no deadline.")
    else:
        cases = ", ".join(o.petition_cases)
        out.append(f"On {_x(_long_date(o.petition_filed))} a petition or application for relief under Health and Safety "
                   f"Code section 11361.8 was filed in case {_x(cases)}. This is the People's response to it.")
    basis = "section 11361.8" + (" and, for the convictions Exhibit A marks as relief under the office's criteria, "
                                 "Penal Code section 1385" if policy else "")
    if o.posture == "petition":
        out.append(f"The People do not oppose the relief shown in Exhibit A for {_n(granted.height, 'conviction')} "
                   f"in {_n(cases_a, 'court case')} and ask the Court to grant it under {basis}.")
    else:
        out.append(f"The People move the Court under {basis} for an order granting the relief shown for each conviction "
                   f"listed in Exhibit A: dismissal and sealing, redesignation as a misdemeanor or an infraction, or "
                   f"recall of the sentence and resentencing. Exhibit A lists {_n(granted.height, 'conviction')} in "
                   f"{_n(cases_a, 'court case')} of {_n(people_a, 'person')}. The People do not challenge relief for "
                   f"any of them.")
    if challenged.height:
        text = (f"Exhibit B lists {_n(challenged.height, 'conviction')} in {_n(cases_b, 'court case')} of "
                f"{_n(people_b, 'person')} for which the People challenge relief, each with the ground of the challenge.")
        if o.posture == "doj_list" and o.late:
            text += (" Because the time to challenge under section 11361.9 ended on July 1, 2020, the People state these "
                     "challenges so that the Court and the Public Defender know the People's position; the Court will "
                     "decide what effect a challenge made after that date has.")
        elif o.posture == "doj_list":
            text += (" This motion also serves as the notice to the Court and to the Public Defender that section "
                     "11361.9 requires for those convictions.")
        else:
            text += " A copy goes to the Public Defender, who may notify each person."
        out.append(text)
    else:
        out.append("The People challenge no conviction in this filing; Exhibit B is empty.")
    return out


def _inclusion_sentences(o: FilingOptions) -> list[str]:
    if o.include == "undecided":
        what = ("The office chose to include every proposal of its criteria that no attorney has overridden, "
                "together with the attorneys' own decisions.")
    else:
        what = ("The office chose to include only convictions an attorney reviewed: proposals an attorney accepted and "
                "the attorneys' own decisions. Proposals no attorney has reviewed are not part of this filing.")
    if o.challenge_ineligible:
        inel = ("The office also chose to challenge every conviction its criteria find ineligible, on the ground that "
                "the person does not meet section 11361.8, unless an attorney decided otherwise.")
    else:
        inel = ("A conviction the criteria find ineligible is challenged only where an attorney decided to challenge "
                "it or accepted that finding.")
    juvenile = ("Convictions for offenses committed before the age of 18 are juvenile matters (Welf. & Inst. Code, "
                "§ 602) and are included only because the office chose to include them."
                if o.include_juvenile else
                "Convictions for offenses committed before the age of 18 are juvenile matters (Welf. & Inst. Code, "
                "§ 602; sealing by form JV-744) and are not part of this filing.")
    return [what, inel, juvenile]


def _criteria_lines(granted: pl.DataFrame) -> list[str]:
    """The bases actually used, in plain words: statutory relief by kind, and each office
    criterion that decided relief beyond the statute, with counts (no personal data)."""
    lines = []
    for g, (label, _) in GROUPS.items():
        part = granted.filter(pl.col("group") == g)
        if not part.height:
            continue
        if g in ("dismiss_policy", "redesignate_policy"):
            crit = Counter(part["criterion"].to_list())
            top = "; ".join(f"{_x(c or 'attorney review')} ({n:,})" for c, n in crit.most_common(8))
            more = f"; and {len(crit) - 8} more criteria" if len(crit) > 8 else ""
            lines.append(f"{label}: {_n(part.height, 'conviction')}. The office's criteria, in its own words: {top}{more}.")
        else:
            lines.append(f"{label}: {_n(part.height, 'conviction')}.")
    return lines


# --------------------------------------------------------------------------- the bulk packet


def build_packet(selection: Selection, office: Office, *, as_of: date | str,
                 source_description: str | Sequence[str], profile_title: str | None = None,
                 audit_head: str | None = None, courthouse: str | None = None, version: str = "sealed",
                 rejected_lines: int | None = None, rejected_where: str = "the import report") -> bytes:
    """The bulk motion packet: notice and motion, points and authorities, declaration,
    Exhibits A and B, proposed order and proof of service. ``version`` "sealed" prints dates of
    birth and CII and is marked for conditional lodging under seal; "public" redacts them."""
    _check_selection(selection)
    sources = [source_description] if isinstance(source_description, str) else list(source_description)
    ctx = Context(office, selection.options, as_of, sources, profile_title, audit_head, rejected_lines, rejected_where)
    return _packet(selection, ctx, courthouse=courthouse, version=version)


def _packet(selection: Selection, ctx: Context, *, courthouse: str | None, version: str) -> bytes:
    if version not in VERSION_SUFFIX:
        raise InputError(f"unknown version {version!r}")
    office, o = ctx.office, ctx.options
    if courthouse is not None:
        selection = selection.for_courthouse(courthouse)
    granted, challenged = selection.granted, selection.challenged
    if granted.height + challenged.height == 0:
        raise InputError("nothing to file: no granted or challenged convictions"
                         + (f" at courthouse {courthouse}" if courthouse else ""))
    redact = version == "public"
    policy = bool(granted.height) and granted["relief_basis"].str.starts_with("policy_").any()
    title = motion_title(o, policy=policy)
    county = _county_name(office.county)
    groups = _group_counts(granted)
    people_a, cases_a = _people_and_cases(granted)
    people_b, cases_b = _people_and_cases(challenged)
    ranges = _row_ranges(granted)
    extra = [f"Courthouse: {_x(courthouse)}"] if courthouse else []
    extra.append("No hearing is requested unless the Court orders one.")
    parties = _parties("PERSONS LISTED IN EXHIBITS A AND B")
    case_number = ", ".join(o.petition_cases) if o.posture == "petition" else "Various (see Exhibits A and B)"
    signer = office.signer

    s: list = [NextPageTemplate("pleading"), _footer(title), _bookmark("Notice of motion and motion")]
    s += _caption(office, parties=parties, case_number=case_number,
                  nature=f"{title}; NOTICE; MEMORANDUM OF POINTS AND AUTHORITIES; "
                         f"DECLARATION OF {signer.upper()}; EXHIBITS A AND B", extra=extra)
    addressees = [office.public_defender.upper(), *(c.split(",")[0].upper() for c in office.city_attorneys)]
    s.append(_p(f"TO THE COURT AND TO THE {_x(' AND TO THE '.join(addressees))}:", PLAIN))
    s += [_p(text) for text in _posture_notice(ctx, granted, challenged)]
    s += _signature(office, _p(f"This filing is based on this notice, the memorandum of points and authorities and "
                               f"the declaration of {_x(signer)} that follow, Exhibits A and B, the Court's own "
                               f"records, and any further matter the Court may consider."))

    # Points and authorities.
    profile = ctx.profile_title or "the office's screening profile"
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
             "plants or whether a transfer was a sale, therefore weigh in the person's favor.")]
    if o.posture == "doj_list":
        s += [_p("II. THE REVIEW OF THE DEPARTMENT OF JUSTICE'S LIST (§ 11361.9) AND ITS DATES", SUBHEAD),
              _p("Section 11361.9, added by Assembly Bill 1793 (2018), required the Department of Justice to "
                 "identify by July 1, 2019 the convictions that may be eligible for relief and to send each county's "
                 "list to its prosecutor and courts. The prosecutor had until July 1, 2020 to review the list and to "
                 "challenge relief on the ground that the person does not meet section 11361.8 or presents an "
                 "unreasonable risk to public safety; a challenged case is reported to the Court and to the Public "
                 "Defender. Where the prosecutor did not challenge, the Court was to grant relief."),
              _p("Assembly Bill 1706 (2022) required the courts to issue the orders for convictions not challenged by "
                 "July 1, 2020 by March 1, 2023 and to notify the Department of Justice, which was to update its "
                 "records by July 1, 2023. It also provides that sealed arrests, convictions and proceedings are "
                 "deemed never to have occurred.")]
    elif o.posture == "supplemental":
        s += [_p("II. CONVICTIONS THE DEPARTMENT OF JUSTICE'S LIST MISSED", SUBHEAD),
              _p("The list under section 11361.9 did not reach every eligible conviction. Section 11361.8 sets no "
                 "deadline: the People may ask the Court to grant relief for a conviction found later, and the "
                 "Court applies the same presumption.")]
    else:
        s += [_p("II. THE PETITION OR APPLICATION", SUBHEAD),
              _p("A person still serving a sentence may petition to have it recalled and to be resentenced or have "
                 "the conviction dismissed (§ 11361.8, subds. (a), (b)); a person who has completed the sentence may "
                 "apply to have the conviction dismissed and sealed or redesignated (§ 11361.8, subds. (e), (f)). "
                 "The Court presumes eligibility unless the People show otherwise by clear and convincing evidence.")]
    s += [_p("III. THE EFFECT OF RELIEF", SUBHEAD),
          _p("A conviction that is resentenced or redesignated as a misdemeanor or an infraction under section "
             "11361.8 is a misdemeanor or an infraction for all purposes (§ 11361.8, subd. (h)). A conviction for "
             "conduct that is now lawful is dismissed and sealed as legally invalid (§ 11361.8, subd. (f)).")]
    if policy:
        s.append(_p("Some convictions in Exhibit A are for conduct that is still an offense. For those the People do "
                    "not rely on section 11361.8's finding that the conduct is lawful: they ask the Court to dismiss "
                    "them in furtherance of justice on the People's motion (Pen. Code, § 1385), or to redesignate "
                    "them, because they meet the office's written criteria stated below. Exhibit A marks each such "
                    "row \u201cPC 1385: office criteria\u201d or \u201cOffice criteria\u201d."))
    s += [_p("IV. THE PEOPLE'S REVIEW CRITERIA", SUBHEAD),
          _p(f"The People reviewed each conviction under the office's written criteria, titled "
             f"\u201c{_x(profile)}\u201d. Each row of Exhibit A states the relief requested and its basis; each row "
             f"of Exhibit B states the ground of the challenge. In this filing:")]
    for line in _criteria_lines(granted):
        s.append(_p(line, ITEM))
    if not granted.height:
        s.append(_p("No relief is requested in Exhibit A.", ITEM))
    s += [_p(" ".join(_inclusion_sentences(o)) + " Convictions still under review by an attorney are not part of "
             "this filing; they will be presented separately."),
          _p("V. CONCLUSION", SUBHEAD),
          *_signature(office, _p("The People ask the Court to grant the relief stated in Exhibit A, to take "
                                 "notice of the challenges stated in Exhibit B, and to sign the proposed order."))]

    s += _declaration(selection, ctx, granted, challenged, groups, (people_a, cases_a), (people_b, cases_b))
    s += _exhibit_a(granted, ctx.layout, redact)
    s += _exhibit_b(challenged, ctx.layout, redact)

    # Proposed order, with its own caption: the Court signs and files it separately.
    otitle = order_title(o)
    s += _new_page("pleading") + [_footer(otitle), _bookmark("[Proposed] order")]
    s += _caption(office, parties=parties, case_number=case_number,
                  nature=otitle, extra=[f"Courthouse: {_x(courthouse)}"] if courthouse else [])
    s.append(_p("The Court has read the People's filing and its Exhibits A and B, which are incorporated in this "
                "order. Good cause appearing, IT IS ORDERED:"))
    k = 0
    for part, g in enumerate(GROUPS, start=1):
        if groups[g]:
            k += 1
            lo_row, hi_row = ranges[g]
            s.append(_p(f"{k}. Each conviction listed in Exhibit A-{part} (Exhibit A rows {lo_row} to {hi_row}, "
                        f"{_n(groups[g], 'conviction')}) {ORDER_WORDING[g]}"))
    k += 1
    s.append(_p(f"{k}. The convictions listed in Exhibit B ({_n(challenged.height, 'conviction')}) are not "
                f"affected by this order; the People's challenge to each will be decided separately."))
    k += 1
    s.append(_p(f"{k}. The clerk shall update the Court's records for each conviction in Exhibit A and report "
                f"each disposition to the Department of Justice."))
    s.append(KeepTogether([
        _gap(),
        _p("Dated: ____________________", PLAIN),
        _p("<br/>".join(["", "______________________________", "Judge of the Superior Court"]), SIGN)]))

    s += _proof_of_service(office, f"{title}, with its notice, memorandum of points and authorities, "
                                  f"declaration, Exhibits A and B, and proposed order", ctx)
    return _render(s, title=title, office=office, audit_head=ctx.audit_head,
                   subject=f"Cannabis relief filing, {county} County ({POSTURES[o.posture]})",
                   banner=SEALED_BANNER if version == "sealed" else PUBLIC_BANNER, keywords=ctx.keywords(version))


ORDER_WORDING = {
    "dismiss_statute": "is dismissed and sealed as legally invalid because the conduct is now lawful "
                       "(Health &amp; Saf. Code, § 11361.8, subds. (b), (f)), as its Basis column states.",
    "dismiss_policy": "is dismissed in furtherance of justice on the People's motion (Pen. Code, § 1385), and the "
                      "record of the conviction is sealed. This dismissal rests on the office's criteria, not on a "
                      "finding that the conduct is lawful.",
    "redesignate_misdemeanor": "is redesignated as a misdemeanor for all purposes (§ 11361.8, subds. (f), (h)).",
    "redesignate_infraction": "is redesignated as an infraction for all purposes (§ 11361.8, subds. (f), (h)).",
    "resentence": "has its sentence recalled and is resentenced as a misdemeanor or an infraction, as its "
                  "Relief column states, for all purposes (§ 11361.8, subds. (b), (h)).",
    "redesignate_policy": "is redesignated as a misdemeanor or an infraction, as its Relief column states, at the "
                          "People's request under the office's criteria.",
}
# One count's relief in a per-case order, by group (the count's facts come first).
COUNT_WORDING = {
    "dismiss_statute": "is dismissed and sealed as legally invalid because the conduct is now lawful (Health &amp; "
                       "Saf. Code, § 11361.8, subd. {sub})",
    "dismiss_policy": "is dismissed in furtherance of justice on the People's motion (Pen. Code, § 1385), and its "
                      "record is sealed",
    "redesignate_misdemeanor": "is redesignated as a misdemeanor for all purposes (Health &amp; Saf. Code, § 11361.8, "
                               "subds. (f), (h))",
    "redesignate_infraction": "is redesignated as an infraction for all purposes (Health &amp; Saf. Code, § 11361.8, "
                              "subds. (f), (h))",
    "resentence": "has its sentence recalled and is resentenced as {level} for all purposes (Health &amp; Saf. Code, "
                  "§ 11361.8, subds. (b), (h))",
    "redesignate_policy": "is redesignated as {level} at the People's request under the office's criteria",
}


def _declaration(selection: Selection, ctx: Context, granted, challenged, groups, a_counts, b_counts) -> list:
    office, o = ctx.office, ctx.options
    county = _county_name(office.county)
    signer = office.signer
    role = (f"a Deputy District Attorney of {_x(county)} County (State Bar No. {_x(office.deputy_state_bar_number)}). "
            f"I reviewed the convictions in this filing for the office under Health and Safety Code section 11361.8"
            if office.deputy else
            f"the District Attorney of {_x(county)} County (State Bar No. {_x(office.state_bar_number)})")
    lo = ", ".join(f"{groups[g]:,} {GROUP_COUNTS[g]}" for g in GROUPS if groups[g])
    kinds = Counter(selection.left_out["left_out_kind"].to_list())
    s = [PageBreak(), _bookmark("Declaration"),
         _p(f"DECLARATION OF {_x(signer.upper())}", HEAD),
         _p(f"I, {_x(signer)}, declare:"),
         _p(f"1. I am {role}. I have personal knowledge of the facts below and could testify to them.")]
    data = "2. Data. "
    if o.posture == "doj_list":
        data += (f"The review started from the Department of Justice's list under section 11361.9, received on "
                 f"{_x(_long_date(o.doj_list_received))}. ")
    elif o.posture == "supplemental":
        data += "The convictions in this filing were found in the county's own records, not on the Department of Justice's list. "
    data += f"The records read, evaluated as of {_x(_long_date(ctx.as_of))}, were:"
    s.append(_p(data))
    for src in ctx.sources:
        s.append(_p(_x(src), ITEM))
    if ctx.rejected_lines:
        s.append(_p(f"3. Import. {_n(ctx.rejected_lines, 'line')} of these records could not be read and "
                    f"{'was' if ctx.rejected_lines == 1 else 'were'} rejected at import; "
                    f"{'it is' if ctx.rejected_lines == 1 else 'they are'} listed in {_x(ctx.rejected_where)}. No "
                    f"rejected line is in the exhibits."))
    else:
        s.append(_p("3. Import. Every line of these records was read; none was rejected."
                    if ctx.rejected_lines == 0 else
                    "3. Import. The screening run does not record how many lines were rejected at import."))
    s.append(_p("4. Review method. The records were read with ClearRec Desktop, which groups the rows by person, finds "
                "each cannabis conviction under sections 11357 through 11360 in this county, and applies the office's "
                f"criteria (\u201c{_x(ctx.profile_title or 'the office profile')}\u201d) in a fixed order. For every "
                "conviction it records the rule that decided it, the legal basis of the relief, and the record rows "
                "relied on. Convictions the criteria could not decide were referred to an attorney, and an attorney's "
                "recorded decision replaced the screening result wherever one was made. "
                + " ".join(_inclusion_sentences(o))))
    left = selection.left_out.height
    counts = (f"5. Counts. Exhibit A lists {_n(granted.height, 'conviction')} in {_n(a_counts[1], 'court case')} of "
              f"{_n(a_counts[0], 'person')}" + (f" ({lo})" if lo else "") + ". "
              f"Exhibit B lists {_n(challenged.height, 'conviction')} in {_n(b_counts[1], 'court case')} of "
              f"{_n(b_counts[0], 'person')}. {_n(left, 'further conviction')} found in the same records "
              f"{'is' if left == 1 else 'are'} not part of this filing")
    why = [f"{n:,} {LEFT_OUT[k]}" for k, n in kinds.most_common() if n]
    counts += (": " + "; ".join(why) + "." if why else ".")
    s.append(_p(_x(counts).replace("&amp;", "&amp;")))
    k = 6
    corrections = selection.corrections
    if corrections is not None and corrections.height:
        s.append(_p(f"{k}. Corrections. Attorneys corrected {_n(corrections.height, 'fact')} of the record shown in "
                    f"the exhibits (code section, level, conviction date, court case number or name as charged), each "
                    f"from a stated source such as the court file; the exhibits print the corrected values and the "
                    f"office's records keep both."))
        k += 1
    s.append(_p(f"{k}. The exhibits were printed from the same data as the electronic file of these rows provided to "
                f"the clerk for updating the Court's records. The version lodged conditionally under seal shows dates "
                f"of birth and CII numbers; the public version redacts them."))
    k += 1
    if ctx.audit_head:
        s.append(_p(f"{k}. The office's audit record of this review ends with the entry whose hash is:", BODY))
        s.append(_p(_x(ctx.audit_head), ITEM))
    s.append(KeepTogether([
        _p("I declare under penalty of perjury under the laws of the State of California that the "
           "foregoing is true and correct."),
        _p("Executed on ____________________, at ____________________, California."),
        _p("<br/>".join(["", "", "______________________________", _x(signer),
                         f"{_x(office.signer_role)} (SBN {_x(office.signer_bar_number)})"]), SIGN)]))
    return s


def _service_list(office: Office) -> list[str]:
    pd = office.public_defender + (f", {', '.join(office.public_defender_address.splitlines())}"
                                   if office.public_defender_address else "")
    return [pd, *office.city_attorneys]


def _proof_of_service(office: Office, served: str, ctx: Context | None = None) -> list:
    s: list = _new_page("pleading") + [_footer(PROOF_TITLE), _bookmark("Proof of service"),
          _p("PROOF OF SERVICE", HEAD),
          _p(f"I am over eighteen years of age and not a party to this action. My business address is "
             f"{_x(', '.join(office.address_lines))}."),
          _p(f"On ____________________, I served the following document: {_x(served)}, on each person on the "
             f"service list below, as marked for each:")]
    for i, who in enumerate(_service_list(office), start=1):
        s.append(_p(f"{i}. {_x(who)}", ITEM))
        s.append(_p("[&nbsp;&nbsp;] personal delivery &nbsp; [&nbsp;&nbsp;] electronic service to "
                    "____________________ &nbsp; [&nbsp;&nbsp;] mail, postage prepaid", ITEM))
    s += [_p("I declare under penalty of perjury under the laws of the State of California that the "
             "foregoing is true and correct."),
          KeepTogether([
              _p("Dated: ____________________", PLAIN),
              _p("<br/>".join(["", "______________________________", "Signature", "", "",
                               "______________________________", "Printed name"]), SIGN)])]
    return s


def _render(story: list, *, title: str, office: Office | None, audit_head: str | None, subject: str,
            first: str = "pleading", banner: str = "", keywords: str = "") -> bytes:
    buf = io.BytesIO()
    doc = _Doc(buf, title=title, author=office.office if office else "ClearRec Desktop", subject=subject,
               audit_head=audit_head, first=first, banner=banner, keywords=keywords)
    doc.render(story)
    return buf.getvalue()


# --------------------------------------------------------------------------- per-case documents


def cases_of(granted: pl.DataFrame) -> list[pl.DataFrame]:
    """The granted rows split by court case (courthouse, case number, person), counts in order."""
    if granted.height == 0:
        return []
    keyed = granted.sort(["courthouse", "court_case_number", "primary_name", "subject_id", "count_key"]).with_columns(
        pl.struct("courthouse", "court_case_number", "subject_id").alias("_case"))
    return [part.drop("_case") for part in keyed.partition_by("_case", maintain_order=True)]


def _level_phrase(r: dict) -> str:
    return "an infraction" if r["filing_relief"] == "reduce_to_infraction" else "a misdemeanor"


def _count_lines(case: pl.DataFrame, *, order: bool) -> list[str]:
    """One line per count: its facts, then which relief it gets and on what basis."""
    out = []
    for r in case.iter_rows(named=True):
        level = LEVEL_WORDS.get(r["level"], "level unknown")
        when = _long_date(r["conviction_date"]) if r["conviction_date"] else "on an unknown date"
        facts = f"Count {_x(_count_no(r['count_key']))}, {_x(_section(r))} ({level}), convicted {_x(when)}"
        sub = "(b)" if r["relief_track"] == "petition" else "(f)"
        wording = COUNT_WORDING[r["group"]].format(sub=sub, level=_level_phrase(r))
        if order:
            out.append(f"{facts}, {wording}.")
        else:
            ask = {"dismiss_statute": "dismiss and seal", "dismiss_policy": "dismiss and seal",
                   "resentence": "recall the sentence and resentence as " + _level_phrase(r)}.get(
                r["group"], "redesignate as " + _level_phrase(r))
            out.append(f"{facts}: {ask}. Basis: {_x(r['basis'])}."
                       + (f" Office criterion: {_x(r['criterion'])}." if r["group"].endswith("_policy") else ""))
    return out


def _case_caption(case: pl.DataFrame, ctx: Context, nature: str) -> list:
    first = case.row(0, named=True)
    primary = first["primary_name"] or first["name"]
    names_here = sorted({n for n in case["name"].to_list() if n and n != primary})
    party = f"{_x(primary)}{' (AKA ' + _x('; '.join(names_here)) + ')' if names_here else ''}"
    return _caption(ctx.office, parties=_parties(party, plural=False), case_number=first["court_case_number"],
                    nature=nature, extra=[f"Courthouse: {_x(first['courthouse'] or '(not recorded)')}"])


def build_case_motion(case: pl.DataFrame, ctx: Context) -> bytes:
    """One court case's motion (or response to a petition), double-spaced (CRC 2.108). Per-case
    documents print no date of birth or CII: the court finds its own case by its number."""
    office, o = ctx.office, ctx.options
    title = per_case_title(o)
    first = case.row(0, named=True)
    s: list = [NextPageTemplate("pleading"), _footer(title), _bookmark(f"Case {first['court_case_number']}")]
    s += _case_caption(case, ctx, title)
    if o.posture == "doj_list":
        lead = ("This conviction is on the list the Department of Justice sent the People under Health and Safety Code "
                f"section 11361.9, received on {_x(_long_date(o.doj_list_received))}. The People do not challenge "
                "relief")
        if o.late:
            lead += (" and note that this response is made after July 1, 2020, the date that section set for the "
                     "People's review")
        lead += ". The People ask the Court to grant the relief below for each count:"
    elif o.posture == "supplemental":
        lead = ("This conviction is not on the Department of Justice's list under Health and Safety Code section "
                "11361.9; the People found it in the county's records. The People ask the Court to grant the relief "
                "below for each count:")
    else:
        lead = (f"This responds to the petition or application filed on {_x(_long_date(o.petition_filed))}. The "
                "People do not oppose relief and ask the Court to grant it as stated below for each count:")
    s.append(_p(lead))
    for line in _count_lines(case, order=False):
        s.append(_p(line, ITEM))
    s += _signature(office, _p("The People ask the Court to sign the proposed order filed with this motion."))
    return _render(s, title=f"{title} - {first['court_case_number']}", office=office, audit_head=ctx.audit_head,
                   subject=f"Per-case filing, {_county_name(office.county)} County", keywords=ctx.keywords())


def build_case_order(case: pl.DataFrame, ctx: Context) -> bytes:
    """The proposed order for one court case, its own document: which count gets which relief."""
    office = ctx.office
    first = case.row(0, named=True)
    s: list = [NextPageTemplate("pleading"), _footer(PER_CASE_ORDER_TITLE),
               _bookmark(f"Order, case {first['court_case_number']}")]
    s += _case_caption(case, ctx, PER_CASE_ORDER_TITLE)
    s.append(_p("The Court has read the People's request in this case. Good cause appearing, IT IS ORDERED:"))
    for i, line in enumerate(_count_lines(case, order=True), start=1):
        s.append(_p(f"{i}. {line}", ITEM))
    s.append(_p("The clerk shall update the Court's records and report the disposition to the Department of Justice."))
    s.append(KeepTogether([_gap(), _p("Dated: ____________________", PLAIN),
                           _p("<br/>".join(["", "______________________________", "Judge of the Superior Court"]),
                              SIGN)]))
    return _render(s, title=f"{PER_CASE_ORDER_TITLE} - {first['court_case_number']}", office=office,
                   audit_head=ctx.audit_head, subject=f"Proposed order, {_county_name(office.county)} County",
                   keywords=ctx.keywords())


def _plain(markup: str) -> str:
    return re.sub(r"<[^>]+>", "", markup).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">") \
        .replace("&nbsp;", " ")


class OrderDocx:
    """Proposed orders as editable Word documents (python-docx): double-spaced 12-pt Times New
    Roman with numbered lines restarting on each page, as courts that ask for an editable order
    expect. One Document is set up per filing (office block, styles) and reused for each case:
    only the case's paragraphs are replaced, which keeps 1,000 orders within the time budget."""

    def __init__(self, ctx: Context):
        from docx import Document
        from docx.enum.text import WD_LINE_SPACING
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Inches, Pt

        self.ctx = ctx
        office = ctx.office
        doc = self.doc = Document()
        section = doc.sections[0]
        section.page_width, section.page_height = Inches(8.5), Inches(11)
        section.left_margin, section.right_margin = Inches(1.5), Inches(0.75)
        section.top_margin, section.bottom_margin = Inches(1), Inches(1)
        numbering = OxmlElement("w:lnNumType")  # CRC 2.108: numbered lines, restarting on every page
        numbering.set(qn("w:countBy"), "1")
        numbering.set(qn("w:restart"), "newPage")
        doc.element.body.sectPr.append(numbering)
        normal = doc.styles["Normal"]
        normal.font.name = "Times New Roman"
        normal.font.size = Pt(12)
        normal.paragraph_format.space_after = Pt(0)
        normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.DOUBLE
        props = doc.core_properties
        props.author = office.office
        props.keywords = ctx.keywords()
        props.comments = "Built by ClearRec Desktop"
        attorney = [f"{office.district_attorney.upper()} (SBN {office.state_bar_number})", "District Attorney"]
        if office.deputy:
            attorney += [f"{office.deputy.upper()} (SBN {office.deputy_state_bar_number})", "Deputy District Attorney"]
        attorney += [office.office, *office.address_lines, f"Tel. {office.phone}", office.email,
                     f"Attorney for {office.attorney_for}"]
        self._single("\n".join(attorney))
        self._single("\n" + office.court_title.replace(", COUNTY OF", ",\nCOUNTY OF") + "\n", bold=True, center=True)
        self._fixed = len(doc.element.body) - 1  # everything before the section properties stays

    def _single(self, text: str, *, bold: bool = False, center: bool = False, indent=None):
        from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING

        para = self.doc.add_paragraph()
        para.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        if center:
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if indent is not None:
            para.paragraph_format.left_indent = indent
        lines = text.split("\n")
        for i, line in enumerate(lines):
            run = para.add_run(line)
            run.bold = bold
            if i < len(lines) - 1:
                run.add_break()
        return para

    def build(self, case: pl.DataFrame) -> bytes:
        from docx.enum.text import WD_LINE_SPACING
        from docx.shared import Inches

        doc = self.doc
        body = doc.element.body
        for element in list(body)[self._fixed:-1]:  # the previous case's paragraphs
            body.remove(element)
        first = case.row(0, named=True)
        doc.core_properties.title = f"{PER_CASE_ORDER_TITLE} - {first['court_case_number']}"
        primary = first["primary_name"] or first["name"]
        names_here = sorted({n for n in case["name"].to_list() if n and n != primary})
        table = doc.add_table(rows=1, cols=2)
        left, right = table.rows[0].cells
        left.text = ("THE PEOPLE OF THE STATE OF CALIFORNIA,\n\tPlaintiff,\nv.\n"
                     f"{primary}{' (AKA ' + '; '.join(names_here) + ')' if names_here else ''},\n\tDefendant.")
        right.text = (f"Case No.: {first['court_case_number']}\n\n{PER_CASE_ORDER_TITLE}\n\n"
                      f"Courthouse: {first['courthouse'] or '(not recorded)'}")
        for cell in (left, right):
            for para in cell.paragraphs:
                para.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        doc.add_paragraph()
        doc.add_paragraph("The Court has read the People's request in this case. Good cause appearing, IT IS ORDERED:")
        for i, line in enumerate(_count_lines(case, order=True), start=1):
            para = doc.add_paragraph(f"{i}. {_plain(line)}")
            para.paragraph_format.left_indent = Inches(0.5)
        doc.add_paragraph("The clerk shall update the Court's records and report the disposition to the Department "
                          "of Justice.")
        doc.add_paragraph("Dated: ____________________")
        self._single("\n______________________________\nJudge of the Superior Court", indent=Inches(3.1))
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()


def build_case_order_docx(case: pl.DataFrame, ctx: Context) -> bytes:
    """One case's proposed order as an editable .docx (see OrderDocx)."""
    return OrderDocx(ctx).build(case)


def build_per_case(selection: Selection, office: Office, *, audit_head: str | None = None,
                   as_of: date | str = "", sources: Sequence[str] = ()) -> list[tuple[str, bytes]]:
    """Every granted court case as its own motion PDF, its own proposed order PDF and the
    order as .docx: ``[(relative file name, bytes), ...]`` under ``per-case/``."""
    _check_selection(selection)
    ctx = Context(office, selection.options, as_of, list(sources), audit_head=audit_head)
    names = FileNames()
    orders = OrderDocx(ctx)
    out: list[tuple[str, bytes]] = []
    for case in cases_of(selection.granted):
        stem = names.case_stem(case.row(0, named=True))
        out += [(f"per-case/{stem}-motion.pdf", build_case_motion(case, ctx)),
                (f"per-case/{stem}-order.pdf", build_case_order(case, ctx)),
                (f"per-case/{stem}-order.docx", orders.build(case))]
    if not out:
        raise InputError("nothing to file: no granted convictions for per-case motions")
    return out


# --------------------------------------------------------------------------- challenge notice


def build_challenge_notice(selection: Selection, office: Office, *, audit_head: str | None = None,
                           version: str = "sealed", layout: ExhibitLayout | None = None) -> bytes:
    """Notice to the Court and the Public Defender of the challenged convictions (HS 11361.9)."""
    _check_selection(selection)
    o = selection.options
    challenged = selection.challenged
    if challenged.height == 0:
        raise InputError("nothing to serve: no challenged convictions")
    layout = layout or (COMPACT if o.compact else STANDARD)
    ctx = Context(office, o, "", [], audit_head=audit_head)
    people, cases = _people_and_cases(challenged)
    parties = _parties("PERSONS LISTED IN EXHIBIT B")
    s: list = [NextPageTemplate("pleading"), _footer(CHALLENGE_TITLE), _bookmark("Notice of challenge")]
    s += _caption(office, parties=parties, case_number="Various (see Exhibit B)", nature=CHALLENGE_TITLE)
    text = (f"Under Health and Safety Code section 11361.9, the People give notice that they challenge relief under "
            f"section 11361.8 for the {_n(challenged.height, 'conviction')} in {_n(cases, 'court case')} of "
            f"{_n(people, 'person')} listed in Exhibit B. For each conviction Exhibit B states the ground: that the "
            f"person does not meet the criteria of section 11361.8, or that the person presents an unreasonable risk "
            f"to public safety, and the reason.")
    if o.late:
        text += (" This notice is given after July 1, 2020, the date by which section 11361.9 required the People to "
                 "challenge relief; the Court will decide what effect a challenge made after that date has.")
    s += [_p(f"TO THE COURT AND TO THE {_x(office.public_defender.upper())}:", PLAIN), _p(text),
          *_signature(office, _p(
              "Section 11361.9 asks the Public Defender to make a reasonable effort to notify each person listed "
              "and to tell the person that a challenge has been made. The People will respond to any petition "
              "or application the person files and ask that a hearing be set for each challenged conviction."))]
    s += _exhibit_b(challenged, layout, version == "public")
    s += _proof_of_service(office, f"{CHALLENGE_TITLE}, with Exhibit B", ctx)
    return _render(s, title=CHALLENGE_TITLE, office=office, audit_head=audit_head,
                   subject=f"Notice of challenge, {_county_name(office.county)} County",
                   banner=SEALED_BANNER if version == "sealed" else PUBLIC_BANNER, keywords=ctx.keywords(version))


# --------------------------------------------------------------------------- cover report


def _short(text: str, limit: int = 240) -> str:
    text = text or ""
    return text if len(text) <= limit else f"{text[:limit]} [... {len(text) - limit:,} more characters]"


def build_cover_report(selection: Selection, office: Office | None = None, *, summary: dict | None = None,
                       produced: Sequence[str] = (), audit_head: str | None = None,
                       failures: Sequence[str] = ()) -> bytes:
    """For the office, not the court: the filing's choices, what was filed, what was left out
    and why (juvenile matters, rows without a case number, names no font can print, ...), the
    corrections applied and every file written, so that no conviction is dropped silently."""
    _check_selection(selection)
    o = selection.options
    g, c, left = selection.granted, selection.challenged, selection.left_out
    groups = _group_counts(g)
    s: list = [_bookmark("Cover report"), Paragraph("Court documents: cover report", REPORT_HEAD)]
    if summary:
        profile = summary.get("profile") or {}
        s.append(Paragraph(
            f"County: {_x(summary.get('county', ''))}. Evaluated as of {_x(summary.get('as_of', ''))}. "
            f"Profile: {_x(profile.get('title') or profile.get('id') or '')}.", REPORT))
        for src in source_lines(summary):
            s.append(Paragraph(_x(src), REPORT))
    if office:
        s.append(Paragraph(f"Office: {_x(office.office)}, {_x(_county_name(office.county))} County. Signed and "
                           f"declared by {_x(office.signer)} ({_x(office.signer_role)}, SBN "
                           f"{_x(office.signer_bar_number)}).", REPORT))
    posture = POSTURES[o.posture]
    if o.posture == "doj_list":
        posture += f"; list received {_long_date(o.doj_list_received)}"
        if o.late:
            posture += "; made AFTER July 1, 2020 (the papers say so)"
    elif o.posture == "petition":
        posture += f"; filed {_long_date(o.petition_filed)} in {', '.join(o.petition_cases)}"
    s.append(Paragraph(_x(f"Posture: {posture}."), REPORT))
    s.append(Paragraph(_x(f"What goes in: {INCLUSIONS[o.include]}. Ineligible proposals: "
                          + ("challenged by the office's choice" if o.challenge_ineligible else
                             "challenged only where an attorney challenged or accepted them")
                          + ". Juvenile matters: " + ("included deliberately" if o.include_juvenile else "kept out")
                          + f". Exhibit layout: {'compact (9 pt)' if o.compact else 'standard (12 pt)'}."), REPORT))
    for note in selection.notes:
        s.append(Paragraph("<b>Note:</b> " + _x(note), REPORT))
    kinds = Counter(left["left_out_kind"].to_list())
    balanced = g.height + c.height + left.height == selection.total
    lines = [
        f"Screened convictions in the results: {selection.total:,}.",
        f"Exhibit A (relief requested): {g.height:,} - "
        + ", ".join(f"{groups[k]:,} {GROUP_COUNTS[k]}" for k in GROUPS if groups[k]) + ".",
        f"Exhibit B (challenged): {c.height:,}.",
        f"Left out of the filing: {left.height:,}"
        + (" - " + "; ".join(f"{LEFT_OUT[k]} {n:,}" for k, n in kinds.most_common()) if left.height else "") + ".",
        ("Every screened conviction is accounted for." if balanced else
         "WARNING: the counts above do not add up to the screened total."),
    ]
    s += [Paragraph(_x(line), REPORT) for line in lines]
    if kinds.get("juvenile"):
        s.append(Paragraph(_x(f"Juvenile matters: {kinds['juvenile']:,} convictions were for offenses committed under 18. "
                              "They belong to the juvenile court (WIC 602; records under WIC 827, sealing by form "
                              "JV-744) and are not in any adult-court document; they are listed below."), REPORT))
    if kinds.get("no_case_number"):
        s.append(Paragraph(_x(f"No court case number: {kinds['no_case_number']:,} convictions. A clerk cannot docket "
                              "them; find each number and record it as a correction, then build again."), REPORT))
    if kinds.get("unprintable"):
        s.append(Paragraph(_x(f"Characters no bundled font has: {kinds['unprintable']:,} convictions. They are never "
                              "printed with a replacement character; the codes are listed below."), REPORT))
    if kinds.get("not_challenged") and o.posture == "doj_list":
        s.append(Paragraph(_x(f"Not challenged: {kinds['not_challenged']:,} convictions the criteria find ineligible have "
                              "no attorney challenge. On DOJ's list, a conviction the People do not challenge is one the "
                              "Court grants relief for."), REPORT))
    corrections = selection.corrections
    if corrections is not None and corrections.height:
        s.append(Paragraph(_x(f"Corrections of the record applied: {corrections.height:,} (listed below)."), REPORT))
    if failures:
        s.append(Paragraph("<b>Not built:</b> " + _x("; ".join(failures)), REPORT))
    if produced:
        s.append(Paragraph(f"Files written ({len(produced):,}): " + _x(", ".join(produced)) + ".", REPORT))
    s += _new_page("exhibit") + [_exhibit_label("LEFT OUT OF THE FILING - NOT FOR THE COURT"),
                                 _bookmark("Convictions left out")]
    if left.height == 0:
        s.append(Paragraph("None: every screened conviction is in Exhibit A or Exhibit B.", REPORT))
    else:
        cols = [("No.", 28), ("Conviction id", 132), ("Court case", 60), ("Courthouse", 80),
                ("Defendant (AKA)", 100), ("Section", 56), ("Level", 26), ("Outcome / decision", 58),
                ("Why left out", 144)]
        rows = [[str(i), r["conviction_id"], _case_no(r["court_case_number"]), _short(r["courthouse"], 80),
                 _short(_person(r)), _short(_section(r), 60), r["level"],
                 r["outcome"] + (f"\n{r['decision']}" if r["decision"] else ""), _short(r["left_out_reason"], 400)]
                for i, r in enumerate(left.iter_rows(named=True), start=1)]
        s.append(_exhibit_table(COMPACT, cols, rows))
    if corrections is not None and corrections.height:
        s += [PageBreak(), _exhibit_label("CORRECTIONS OF THE RECORD APPLIED - NOT FOR THE COURT"),
              _bookmark("Corrections applied")]
        cols = [("No.", 28), ("Conviction id", 150), ("Fact", 90), ("Recorded", 120), ("Printed", 120),
                ("Source", 176)]
        from .filing import CORRECTABLE
        rows = [[str(i), r["conviction_id"], CORRECTABLE[r["field"]], _short(r["original"], 120),
                 _short(r["value"], 120), _short(r["source"], 200)]
                for i, r in enumerate(corrections.iter_rows(named=True), start=1)]
        s.append(_exhibit_table(COMPACT, cols, rows))
    return _render(s, title="Court documents: cover report (not for filing)", office=office,
                   audit_head=audit_head, subject="What was filed and what was left out", first="report",
                   keywords="; ".join(f"{k}={v}" for k, v in o.metadata().items() if v not in (None, "")))


# --------------------------------------------------------------------------- file names


def _key(name: str) -> str:
    """Two names that differ only in case or punctuation are the same file to a person (and,
    for case, to Windows and macOS)."""
    return re.sub(r"[^a-z0-9]+", "", name.casefold())


def slug(text: str, limit: int = 48) -> str:
    """A file-name part: ASCII letters, digits and hyphens, bounded; a cut name keeps a short
    hash of the whole so two long names that share a start stay apart."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "unknown"
    if len(s) > limit:
        digest = hashlib.sha256((text or "").encode("utf-8")).hexdigest()[:8]
        s = f"{s[:limit - 9].rstrip('-')}-{digest}"
    return s


class FileNames:
    """Names for one run's outputs: unique (ignoring case and punctuation), bounded in length."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def take(self, stem: str, suffix: str, folder: str = "") -> str:
        stem = stem[:MAX_FILE_STEM].rstrip("-") or "document"
        name, n = stem, 1
        while _key(folder + name + suffix) in self._used:
            n += 1
            name = f"{stem[:MAX_FILE_STEM - 4].rstrip('-')}-{n}"
        self._used.add(_key(folder + name + suffix))
        return name

    def case_stem(self, r: dict) -> str:
        # The court case number only: a file name (and the list of files a run prints) never
        # carries a person's name; two people in one case number get "-2".
        return self.take(slug(r["court_case_number"], 40), "-motion.pdf", "per-case/")


# --------------------------------------------------------------------------- a whole filing


@dataclass
class OutputFile:
    name: str            # relative path inside the output folder ("per-case/..." for per-case files)
    title: str
    data: bytes
    kind: str            # packet, challenge, per_case_motion, per_case_order, per_case_docx, update, cover
    version: str = ""    # sealed / public for packets and notices


@dataclass
class Filing:
    selection: Selection
    files: list[OutputFile] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.files]


def source_lines(summary: dict) -> list[str]:
    lines = []
    kinds = {"doj": "Department of Justice extract", "mapped": "county case-management records"}
    for item in summary.get("inputs") or []:
        parts = [f"File {item.get('file', '?')}" + (f" ({kinds[item['kind']]})" if item.get("kind") in kinds else "")]
        if item.get("sha256"):
            parts.append(f"SHA-256 {item['sha256']}")
        for key, what in (("lines_read", "lines read"), ("rows_imported", "rows imported"),
                          ("lines_rejected", "lines rejected")):
            if item.get(key) is not None:
                parts.append(f"{int(item[key]):,} {what}")
        lines.append(", ".join(parts) + ".")
    return lines or ["(the screening run lists no input files)"]


def rejected_count(summary: dict) -> int | None:
    values = [item.get("lines_rejected") for item in summary.get("inputs") or []]
    if not values or any(v is None for v in values):
        return None
    return sum(int(v) for v in values)


def build_filing(selection: Selection, office: Office, *, summary: dict, per_case: bool = False,
                 by_courthouse: bool = False, courthouse: str | None = None, audit_head: str | None = None,
                 rejected_where: str = "the import report", progress: Callable[[float, str], None] | None = None,
                 cancel=None) -> Filing:
    """Every document of one filing, in memory: packets (sealed and public versions), the
    challenge notice, per-case motions and orders, the court update file and the cover report.

    Names never collide (FileNames). A document that cannot be built does not stop the others:
    its rows are listed in the cover report, which is always built last.
    """
    _check_selection(selection)
    o = selection.options
    layout = COMPACT if o.compact else STANDARD
    if courthouse:
        part = selection.for_courthouse(courthouse)
        selection = dataclasses.replace(part, total=part.granted.height + part.challenged.height
                                        + part.left_out.height)
    selection = hold_unprintable(selection, layout)
    profile = summary.get("profile") or {}
    ctx = Context(office, o, summary.get("as_of", ""), source_lines(summary),
                  profile.get("title") or profile.get("id"), audit_head, rejected_count(summary), rejected_where)
    names = FileNames()
    filing = Filing(selection)
    suffix = f"-{slug(courthouse)}" if courthouse else ""
    jobs: list[tuple[str, str, str, str, Callable[[], bytes]]] = []   # (stem, ext, title, kind/version)
    fileable = selection.granted.height + selection.challenged.height > 0
    packet_files: dict[str | None, str] = {}
    if fileable and not per_case:
        courts = selection.courthouses if (by_courthouse and not courthouse) else [courthouse]
        for court in courts:
            part = selection.for_courthouse(court) if court else selection
            if part.granted.height + part.challenged.height == 0:
                continue
            base = names.take(f"motion-packet{'-' + slug(court) if court else ''}", "")
            for version in o.versions:
                stem = names.take(f"{base}-{VERSION_SUFFIX[version]}", ".pdf")
                packet_files.setdefault(court, f"{stem}.pdf")
                label = f"Motion packet{' - ' + court if court else ''} ({'lodged under seal' if version == 'sealed' else 'public, redacted'})"
                jobs.append((stem, ".pdf", label, f"packet/{version}",
                             lambda court=court, version=version: _packet(selection, ctx, courthouse=court,
                                                                          version=version)))
    if fileable and selection.challenged.height:
        for version in o.versions:
            stem = names.take(f"challenge-notice{suffix}-{VERSION_SUFFIX[version]}", ".pdf")
            jobs.append((stem, ".pdf", f"Notice of challenge ({'lodged under seal' if version == 'sealed' else 'public, redacted'})",
                         f"challenge/{version}",
                         lambda version=version: build_challenge_notice(selection, office, audit_head=audit_head,
                                                                        version=version, layout=layout)))
    total = len(jobs) + (3 * len(cases_of(selection.granted)) if per_case else 0) + 3
    done = 0

    def tick(message: str) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        if progress is not None:
            progress(min(0.98, done / max(total, 1)), message)

    held: dict[str, tuple[str, str]] = {}
    for stem, ext, title, kind, make in jobs:
        tick(f"Building {title.lower()}")
        try:
            data = make()
        except (InputError, ValueError, RecursionError) as exc:
            filing.failures.append(f"{stem}{ext}: {type(exc).__name__}")
        else:
            k, _, version = kind.partition("/")
            filing.files.append(OutputFile(f"{stem}{ext}", title, data, k, version))
        done += 1
    if per_case and selection.granted.height:
        orders = OrderDocx(ctx)
        for case in cases_of(selection.granted):
            first = case.row(0, named=True)
            stem = names.case_stem(first)
            tick(f"Building per-case documents ({done:,} of {total:,})")
            try:
                made = [(f"per-case/{stem}-motion.pdf", "Per-case motion", "per_case_motion", build_case_motion(case, ctx)),
                        (f"per-case/{stem}-order.pdf", "Per-case proposed order", "per_case_order", build_case_order(case, ctx)),
                        (f"per-case/{stem}-order.docx", "Per-case proposed order (editable)", "per_case_docx",
                         orders.build(case))]
            except (InputError, ValueError, RecursionError) as exc:  # one bad case never stops the run
                for cid in case["conviction_id"].to_list():
                    held[cid] = ("build_failed", f"Its per-case documents could not be built ({type(exc).__name__})")
            else:
                filing.files += [OutputFile(n, f"{t}: {first['court_case_number']}", d, k) for n, t, k, d in made]
            done += 3
    if held:
        selection = selection.hold(held)
        filing.selection = selection
    if selection.granted.height + selection.challenged.height:
        tick("Building the court update file")
        update = court_update_rows(selection, by_courthouse=by_courthouse and not courthouse, packet_files=packet_files)
        csv_name = names.take(f"court-update{suffix}", ".csv")
        xlsx_name = names.take(f"court-update{suffix}", ".xlsx")
        filing.files.append(OutputFile(f"{csv_name}.csv", "Court update file (CSV, confidential)",
                                       court_update_csv(update), "update"))
        filing.files.append(OutputFile(f"{xlsx_name}.xlsx", "Court update file (Excel, confidential)",
                                       court_update_xlsx(update), "update"))
    tick("Building the cover report")
    cover = names.take(f"cover-report{suffix}", ".pdf")
    produced = filing.names + [f"{cover}.pdf"]
    filing.files.append(OutputFile(f"{cover}.pdf", "Cover report (for the office, not for filing)",
                                   build_cover_report(selection, office, summary=summary, produced=produced,
                                                      audit_head=audit_head, failures=filing.failures), "cover"))
    if progress is not None:
        progress(1.0, "Built")
    return filing


def write_filing(filing: Filing, out_dir: Path) -> list[Path]:
    """Write every file of a filing under ``out_dir``; the cover report is written even when
    another file cannot be (and the error names that file). Returns the paths written."""
    written: list[Path] = []
    errors: list[str] = []
    cover = [f for f in filing.files if f.kind == "cover"]
    for f in [f for f in filing.files if f.kind != "cover"] + cover:
        path = out_dir / f.name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            written.append(write_bytes(path, f.data))
        except (InputError, OSError) as exc:
            errors.append(f"{f.name}: {exc}")
    if errors:
        raise InputError(f"{len(errors)} file(s) could not be written (the others were, including the cover "
                         f"report where possible): " + "; ".join(errors[:3]))
    return written


def build_documents(screen_out_dir: Path, office_file: Path, out_dir: Path, *, per_case: bool = False,
                    by_courthouse: bool = False, decisions: pl.DataFrame | Path | None = None,
                    corrections: pl.DataFrame | Path | None = None, options: FilingOptions | None = None,
                    audit_head: str | None = None, counts: dict | None = None) -> list[Path]:
    """What ``clearrec documents`` calls: read a screening output directory, write the PDFs,
    the per-case .docx orders, the court update CSV / XLSX and the cover report under
    ``out_dir``; return every path written. ``counts`` (a dict) is filled with how many
    convictions were granted, challenged and left out (by reason kind)."""
    from .run_folder import read_screen_output

    results, summary = read_screen_output(screen_out_dir)
    office = load_office(office_file)
    if " ".join(office.county.upper().split()) != " ".join(str(summary["county"]).upper().split()):
        raise InputError(f"{Path(office_file).name}: the office is in {_county_name(office.county)} County "
                         f"but the screening run is for {_county_name(str(summary['county']))} County")
    frames = {}
    for what, value in (("decisions", decisions), ("corrections", corrections)):
        if value is not None and not isinstance(value, pl.DataFrame):
            path = local_path(value, what=f"{what} file")
            try:
                value = pl.read_csv(path, infer_schema=False)
            except (OSError, pl.exceptions.PolarsError) as exc:
                raise InputError(f"{path.name}: cannot read the {what} ({exc.__class__.__name__})") from None
        frames[what] = value
    options = options or FilingOptions(posture="supplemental")
    selection = select_for_filing(results, frames["decisions"], options=options, corrections=frames["corrections"],
                                  statutory_profile=(summary.get("profile") or {}).get("id") == "statutory")
    out_dir = local_path(out_dir, must_exist=False)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot create the folder ({exc.strerror})") from None
    filing = build_filing(selection, office, summary=summary, per_case=per_case, by_courthouse=by_courthouse,
                          audit_head=audit_head, rejected_where=f"rejected.csv in {Path(screen_out_dir).name}")
    if counts is not None:  # what the cover report says, for the command line's summary
        counts.update(granted=filing.selection.granted.height, challenged=filing.selection.challenged.height,
                      left_out=dict(Counter(filing.selection.left_out["left_out_kind"].to_list())))
    return write_filing(filing, out_dir)
