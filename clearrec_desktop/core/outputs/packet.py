"""What the court receives, on pleading paper: the bulk motion packet, per-case motions, the
notice of challenge and the cover report. Layout lives in pleading.py; selection in filing.py.

Everything is built in memory and written only to the paths the user chose: no temporary
files of records, ever."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Sequence

import polars as pl
from reportlab.platypus import KeepTogether, NextPageTemplate, PageBreak, Paragraph

from ..errors import InputError
from ..safety import local_path
from .court_update import _csv_bytes, _write, _xlsx_bytes, court_update_rows
from .filing import (
    GROUNDS,
    GROUP_COUNTS,
    GROUPS,
    Office,
    Selection,
    _check_selection,
    _county_name,
    load_office,
    select_for_filing,
)
from .pleading import (
    BODY,
    EX_COLUMNS_A,
    EX_COLUMNS_B,
    HEAD,
    ITEM,
    PLAIN,
    REPORT,
    REPORT_HEAD,
    REQUEST,
    SIGN,
    SINGLE,
    SUBHEAD,
    _bookmark,
    _caption,
    _case_no,
    _count_no,
    _dated_signature,
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
)

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
        s.append(_p("6. The office's audit record of this review ends with the entry whose hash is:", BODY))
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
    from .run_folder import read_screen_output

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
