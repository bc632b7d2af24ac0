"""A synthetic county case-management export for the people of a demo DOJ extract, with the
differences a reconciliation must find planted in it, and the truth about them kept apart.

``write_county_export`` reads a DOJ extract (normally one ``clearrec demo-data`` wrote), and
writes one CSV row per court count of the county, the way a county's case-management system
exports it (its own column names, MM/DD/YYYY dates, "11359 H&S" charges, a party id of its own).
Planted, at low rates, and each recorded in the truth file:

- people: CII left blank, one-letter typos in a name, names written first-name-first, middle
  initials dropped or added, surnames split by a hyphen or a space, day and month of birth
  swapped, a case filed under another name (an AKA), two DOJ subject ids that are one party;
- convictions: cases missing from the county (DOJ only), cannabis cases missing from DOJ for
  known people and for people DOJ has no record of (county only), court case numbers written
  other ways (dashes and spaces, courthouse prefixes, four-digit years, no leading zeros),
  dates a few days apart (within the linking tolerance: still the same), and a few real
  disagreements of section, level, conviction date or disposition;
- people DOJ has no record of who share a date of birth and a given name with someone who
  is on DOJ's list (they must not be linked).

The truth file (CSV) has a row per person link and per conviction: ``record`` (person or
conviction), ``kind`` (person: linked or county_only; conviction: both, both_disagreeing,
doj_only or county_only), the DOJ subject id and record key, the county party id and line,
whether it is a cannabis conviction, the planted disagreement and the planted differences.
Everything is invented; the same arguments give the same bytes.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta

import polars as pl

from .errors import InputError
from .ingest import importer
from .ingest.normalise import normalise_county
from .reconcile.linkage import DATE_TOLERANCE_DAYS, court_counts
from .safety import local_path

HEADER = ["Party ID", "Court Case #", "Defendant Name", "Birth Date", "CII", "Charge", "Charge Level", "Disposition",
          "Dispo Date", "Sentence", "Courthouse", "County", "Race", "Sex"]

MAPPING_TOML = """# Column mapping for the county export written by `clearrec demo-data --county-export`.

[columns]
subject_id = "Party ID"
court_case_number = "Court Case #"
name = "Defendant Name"
dob = "Birth Date"
cii_number = "CII"
code_section = "Charge"
level = "Charge Level"
disposition = "Disposition"
conviction_date = "Dispo Date"
sentence = "Sentence"
courthouse = "Courthouse"
county = "County"
race = "Race"
gender = "Sex"

[options]
date_format = "MM/DD/YYYY"
"""

TRUTH_COLUMNS = ["record", "kind", "doj_subject_id", "doj_record", "county_party_id", "county_line", "cannabis",
                 "disagree_on", "planted"]

# Rates (people, then convictions).
P_NO_CII = 0.35
P_TYPO = 0.04
P_NAME_ORDER = 0.08
P_INITIAL = 0.04
P_SPLIT_SURNAME = 0.02
P_DOB_SWAP = 0.03
P_AKA = 0.02
P_COUNTY_ONLY_KNOWN = 0.03      # a party gets a cannabis case DOJ does not have
P_NEW_PERSON = 0.02             # people DOJ has no record of (per DOJ party)
P_DECOY = 0.005                 # of those: same birth date and given name as a DOJ person
P_DOJ_ONLY = 0.03               # cannabis convictions the county does not have
P_CASE_FORMAT = 0.2             # per case
P_NEAR_DATE = 0.02
P_DISAGREE = 0.012              # each of section, level, date; disposition half of it

_SURNAME_PARTS = (("ABR", "BAL", "CRES", "DUN", "ELM", "FOR", "GALB", "HEW", "IND", "JARL", "KES", "LUND", "MOSS",
                   "NORB", "OAK", "PIR", "QUAR", "RUSK", "STAV", "TULL", "UNW", "VARN", "WHIT", "YEOV"),
                  ("", "A", "E", "I", "O", "EL", "AR"),
                  ("BURY", "CASTLE", "DEN", "FIELD", "GATE", "HALL", "KIRK", "LEY", "MONT", "NOR", "PORT", "ROW",
                   "STONE", "THORPE", "WARD", "WORTH"))
_GIVEN = ("ALDEN", "BRIONY", "CAEDMON", "DELPHA", "EVANDER", "FIONNA", "GARRICK", "HOLLIS", "IMOGEN", "JUDSON",
          "KESTREL", "LORCAN", "MAELIS", "NERISSA", "ODELL", "PERRIN", "QUINLAN", "ROWENA", "SORREL", "TAMSIN")
_CONVICTED = ("Convicted - Plea", "Guilty Plea", "Convicted - Jury", "Nolo Contendere", "Convicted - Court Trial")
_CANNABIS = (("11357", "(b)", "M"), ("11357", "(c)", "M"), ("11357", "(a)", "F"), ("11358", "", "F"),
             ("11359", "", "F"), ("11359", "", "M"), ("11360", "(a)", "F"), ("11360", "(b)", "M"))
_OTHER = (("PC", "459", "", "F"), ("PC", "484", "(a)", "M"), ("VC", "23152", "(a)", "M"), ("PC", "242", "", "M"),
          ("HS", "11377", "(a)", "M"), ("PC", "148", "(a)", "M"), ("VC", "12500", "(a)", "M"), ("PC", "602", "", "M"))
_PREFIXES = ("SAC", "SC", "CR", "SCR", "MC")
_LEVEL_TEXT = {"F": ("FEL", "F", "Felony"), "M": ("MISD", "M", "Misdemeanor"), "I": ("INF", "I", "Infraction")}


def _fmt(d: date | None) -> str:
    return "" if d is None else f"{d.month:02d}/{d.day:02d}/{d.year:04d}"


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    letters = "AEIOULNRST"
    if kind == 0:  # substitute
        c = rng.choice([x for x in letters if x != word[i]])
        return word[:i] + c + word[i + 1:]
    if kind == 1:  # delete
        return word[:i] + word[i + 1:]
    if kind == 2:  # insert
        return word[:i] + rng.choice(letters) + word[i:]
    if word[i] == word[i + 1]:
        return word[:i] + "E" + word[i + 1:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]  # swap neighbours


def _split_name(name: str) -> tuple[str, str, str]:
    last, _, rest = (name or "").partition(",")
    words = rest.split()
    return last.strip(), (words[0] if words else ""), " ".join(words[1:])


def _charge_text(code_section: str | None, qualifier: str | None, offence_text: str | None, rng: random.Random) -> str:
    if not code_section:
        return (offence_text or "").split("-")[0].strip()
    law, _, rest = code_section.partition(" ")
    if not rest:
        law, rest = "", code_section
    sub_start = rest.find("(")
    num, sub = (rest, "") if sub_start < 0 else (rest[:sub_start], rest[sub_start:])
    law_text = {"HS": rng.choice(("H&S", "HS", "HSC")), "PC": "PC", "VC": "VC"}.get(law, law)
    sub = sub.upper() if rng.random() < 0.5 else sub
    text = f"{num}{sub} {law_text}".strip() if rng.random() < 0.7 else f"{law_text} {num}{sub}".strip()
    if qualifier == "attempt":
        text = "664/" + text
    elif qualifier == "conspiracy":
        text = "182(A)(1) PC/" + text
    return text


def _sentence_text(parts: list[tuple]) -> str:
    out = []
    for kind, length, unit in parts:
        if kind is None:
            continue
        if kind in ("FINE",):
            out.append(f"FINE ${length}" if length else "FINE")
        elif length is not None and unit in ("D", "M", "Y"):
            word = {"D": "DAYS", "M": "MOS", "Y": "YRS"}[unit]
            out.append(f"{length} {word} {kind}")
        else:
            out.append(kind)
    return "; ".join(out)


def _case_variant(case: str, rng: random.Random) -> tuple[str, str]:
    """Another way of writing a court case number like 98F01234."""
    import re
    m = re.match(r"^(\d{2})([A-Z]+)(\d+)$", case)
    if not m:
        return case.lower(), "case_lowercase"
    yy, letters, number = m.groups()
    century = "19" if int(yy) > 40 else "20"
    kind = rng.randrange(5)
    if kind == 0:
        return f"{yy}-{letters}-{number}", "case_dashes"
    if kind == 1:
        return f"{rng.choice(_PREFIXES)}{rng.choice(('', '-'))}{case}", "case_courthouse_prefix"
    if kind == 2:
        return f"{century}{yy}{letters}{number}", "case_four_digit_year"
    if kind == 3:
        return f"{yy}{letters}{int(number)}", "case_no_leading_zeros"
    return f"{yy} {letters.lower()} {number}", "case_spaces_lowercase"


class _Writer:
    def __init__(self, county_title: str):
        self.rows: list[list[str]] = []
        self.county_title = county_title

    def add(self, party: str, case: str, name: str, dob: date | None, cii: str, charge: str, level: str,
            disposition: str, when: date | None, sentence: str, courthouse: str, race: str, sex: str) -> int:
        self.rows.append([party, case, name, _fmt(dob), cii, charge, level, disposition, _fmt(when), sentence,
                          courthouse, self.county_title, race, sex])
        return len(self.rows) - 1


def write_county_export(doj_path, out_path, *, county: str, seed: int = 1, truth_path=None, mapping_path=None,
                        min_rows: int = 0) -> dict:
    """Write the county export for the people of the DOJ extract ``doj_path``; see the module
    docstring. ``min_rows`` adds people with only other (non-cannabis) cases until the export
    has at least that many rows, as a county's whole caseload would. Returns counts of what
    was planted."""
    doj_path = local_path(doj_path)
    out_path = local_path(out_path, must_exist=False)
    key = normalise_county(county)
    rows, _ = importer.import_files([doj_path])
    if key not in set(rows["county"].drop_nulls().unique().to_list()):
        raise InputError(f"{doj_path.name}: has no rows for county {county!r}")
    rng = random.Random(f"county-export/{seed}")
    rec = court_counts(rows, key, side="doj")
    extra = (rows.lazy().filter(pl.col("county") == key)
             .sort("source_file", "source_line")
             .group_by("subject_id", "count_key", maintain_order=True)
             .agg(pl.col("offence_text").first(), pl.col("cycle_date").first(),
                  pl.struct("sent_type", "sent_length", "sent_unit").alias("parts"))
             .collect())
    rec = rec.join(extra, on=["subject_id", "count_key"], how="left").sort("source_line")
    people = (rows.lazy().join(rec.lazy().select("subject_id").unique(), on="subject_id", how="semi")
              .sort("source_file", "source_line")
              .group_by("subject_id", maintain_order=True)
              .agg(pl.col("name").drop_nulls().first(), pl.col("dob").drop_nulls().first(),
                   pl.col("cii_number").drop_nulls().first(), pl.col("race").drop_nulls().first(),
                   pl.col("gender").drop_nulls().first())
              .collect())

    writer = _Writer(key.title())
    truth: list[dict] = []
    planted: dict[str, int] = {}

    def plant(kind: str) -> str:
        planted[kind] = planted.get(kind, 0) + 1
        return kind

    # --- parties: one per person (DOJ subject ids with the same name and birth date are one) ---
    parties: dict[tuple, dict] = {}
    subject_party: dict[str, dict] = {}
    used_ids: set[str] = set()

    def new_party_id() -> str:
        while True:
            pid = f"CMS{rng.randrange(10**6, 10**7)}"
            if pid not in used_ids:
                used_ids.add(pid)
                return pid

    for p in people.iter_rows(named=True):
        ident = (p["name"], p["dob"])
        party = parties.get(ident) if p["name"] and p["dob"] else None
        if party is None:
            party = {"id": new_party_id(), "subjects": [], "name": p["name"] or "", "dob": p["dob"],
                     "cii": p["cii_number"] or "", "race": (p["race"] or "").title(),
                     "sex": {"M": "Male", "F": "Female"}.get(p["gender"] or "", p["gender"] or ""), "planted": []}
            _vary_person(party, rng, plant)
            if p["name"] and p["dob"]:
                parties[ident] = party
            else:
                parties[(p["subject_id"],)] = party
        elif len(party["subjects"]) == 1:
            party["planted"].append(plant("one_party_two_doj_subjects"))
        party["subjects"].append(p["subject_id"])
        subject_party[p["subject_id"]] = party

    # --- the county's copy of each DOJ court count ---------------------------------------------
    case_text: dict[tuple, tuple[str, str]] = {}
    pending: list[tuple] = []
    for r in rec.iter_rows(named=True):
        party = subject_party[r["subject_id"]]
        cannabis = bool(r["cannabis"])
        if cannabis and rng.random() < P_DOJ_ONLY:
            truth.append({"record": "conviction", "kind": "doj_only", "doj_subject_id": r["subject_id"],
                          "doj_record": r["d_rec"], "cannabis": True, "planted": plant("missing_from_county")})
            continue
        marks: list[str] = []
        step = (r["subject_id"], r["count_key"][:6])
        if step not in case_text:
            case = r["court_case_number"]
            if case is None:
                year = (r["conviction_date"] or r["cycle_date"] or date(2000, 1, 1)).year % 100
                case = f"{year:02d}{'F' if r['level'] == 'F' else 'M'}{rng.randrange(10**5):05d}"
                kind = "case_number_missing_from_doj"
            else:
                kind = ""
            if rng.random() < P_CASE_FORMAT:
                case, kind2 = _case_variant(case, rng)
                kind = ";".join(x for x in (kind, kind2) if x)
            case_text[step] = (case, kind)
        case, case_kind = case_text[step]
        if case_kind:
            marks += case_kind.split(";")
        when = r["conviction_date"]
        if when is None:
            base = r["cycle_date"]
            when = None if base is None else base + timedelta(days=rng.randint(10, 90))
            marks.append("date_missing_from_doj")
        section, qualifier, level, convicted = r["code_section"], r["qualifier"], r["level"], bool(r["convicted"])
        disagree = ""
        if cannabis:
            x = rng.random()
            if x < P_DISAGREE:
                section = _other_section(section, rng)
                disagree = "section"
            elif x < 2 * P_DISAGREE and level in ("F", "M"):
                level = "M" if level == "F" else "F"
                disagree = "level"
            elif x < 3 * P_DISAGREE and when is not None and r["conviction_date"] is not None:
                when = when + timedelta(days=rng.choice((-1, 1)) * rng.randint(60, 700))
                disagree = "date"
            elif x < 3.5 * P_DISAGREE:
                convicted = False
                disagree = "disposition"
            elif x < 3.5 * P_DISAGREE + P_NEAR_DATE and when is not None and r["conviction_date"] is not None:
                when = when + timedelta(days=rng.choice((-1, 1)) * rng.randint(1, DATE_TOLERANCE_DAYS))
                marks.append(plant("date_within_tolerance"))
            if disagree:
                marks.append(plant(f"disagree_{disagree}"))
        name = party["name"]
        steps = party.setdefault("steps", [])
        if step not in steps:
            steps.append(step)
            if party.get("aka") and len(steps) == 2:
                party["aka_case"] = step  # a later case filed under the other name
        if party.get("aka") and party["aka_case"] == step:
            name = party["aka"]
            marks.append("aka")
        parts = [(x["sent_type"], x["sent_length"], x["sent_unit"]) for x in (r["parts"] or [])]
        disp = rng.choice(_CONVICTED) if convicted else rng.choice(("Dismissed", "Dismissed - Furtherance of Justice"))
        line = writer.add(party["id"], case, name, party["dob"], party["cii"],
                          _charge_text(section, qualifier, r["offence_text"], rng),
                          rng.choice(_LEVEL_TEXT[level]) if level in _LEVEL_TEXT else "", disp, when,
                          _sentence_text(parts) if convicted else "", (r["courthouse"] or "").title(),
                          party["race"], party["sex"])
        pending.append((line, {"record": "conviction", "kind": "both_disagreeing" if disagree else "both",
                               "doj_subject_id": r["subject_id"], "doj_record": r["d_rec"],
                               "county_party_id": party["id"],
                               "cannabis": cannabis or (convicted and (r["section_num"] or "") in ("11357", "11358", "11359", "11360")),
                               "disagree_on": disagree, "planted": ";".join(marks)}))

    # --- cannabis cases DOJ does not have, for known people ----------------------------------
    taken = {c for c, _ in case_text.values()}
    doj_parties = list({p["id"]: p for p in subject_party.values()}.values())
    for party in doj_parties:
        if party.get("steps"):  # only people the export shows (all of someone's cases may be missing)
            for sid in party["subjects"]:
                truth.append({"record": "person", "kind": "linked", "doj_subject_id": sid, "county_party_id": party["id"],
                              "planted": ";".join(party["planted"])})
        else:
            continue
        if rng.random() < P_COUNTY_ONLY_KNOWN:
            line, t = _county_only_case(writer, party, party["name"], rng, taken)
            t["planted"] = plant("missing_from_doj_known_person")
            pending.append((line, t))

    # --- people DOJ has no record of ----------------------------------------------------------
    n_new = max(2, round(len(doj_parties) * P_NEW_PERSON))
    n_decoy = max(1, round(len(doj_parties) * P_DECOY))
    for i in range(n_new + n_decoy):
        decoy = i >= n_new
        template = rng.choice(doj_parties) if decoy else None
        party = _invented_party(new_party_id(), rng, template)
        kind = plant("decoy_same_birth_date_and_given_name" if decoy else "person_missing_from_doj")
        truth.append({"record": "person", "kind": "county_only", "county_party_id": party["id"], "planted": kind})
        for _ in range(rng.choice((1, 1, 2))):
            line, t = _county_only_case(writer, party, party["name"], rng, taken)
            t["planted"] = kind
            pending.append((line, t))
        if rng.random() < 0.4:
            _other_case(writer, party, rng, taken)

    # --- the rest of the county's caseload (people with other cases only) --------------------
    while len(writer.rows) < min_rows:
        party = _invented_party(new_party_id(), rng, None)
        for _ in range(rng.choice((1, 1, 2, 3))):
            _other_case(writer, party, rng, taken)

    # Case-management exports come sorted by case number, not by person.
    order = sorted(range(len(writer.rows)), key=lambda i: (writer.rows[i][1], i))
    line_of = {old: new + 2 for new, old in enumerate(order)}  # header is line 1
    with open(out_path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        for i in order:
            w.writerow(writer.rows[i])
    for old, t in pending:
        t["county_line"] = line_of[old]
        truth.append(t)
    stats = {"path": str(out_path), "rows": len(writer.rows), "parties": len(set(p["id"] for p in subject_party.values())),
             "planted": dict(sorted(planted.items()))}
    if truth_path is not None:
        truth_path = local_path(truth_path, must_exist=False)
        with open(truth_path, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=TRUTH_COLUMNS, lineterminator="\n")
            w.writeheader()
            for t in truth:
                w.writerow({k: ("true" if t.get(k) is True else "false" if t.get(k) is False else t.get(k, ""))
                            for k in TRUTH_COLUMNS})
        stats["truth"] = str(truth_path)
    if mapping_path is not None:
        mapping_path = local_path(mapping_path, must_exist=False)
        mapping_path.write_text(MAPPING_TOML, encoding="utf-8")
        stats["mapping"] = str(mapping_path)
    return stats


def _vary_person(party: dict, rng: random.Random, plant) -> None:
    last, first, middle = _split_name(party["name"])
    marks = party["planted"]
    if rng.random() < P_NO_CII and party["cii"]:
        party["cii"] = ""
        marks.append(plant("cii_blank"))
    if rng.random() < P_TYPO and last and first:
        if rng.random() < 0.6:
            last = _typo(last, rng)
        else:
            first = _typo(first, rng)
        marks.append(plant("name_typo"))
    if rng.random() < P_INITIAL:
        middle = "" if middle else rng.choice("ABCDEFGHJKLMNPRSTW")
        marks.append(plant("middle_initial"))
    if rng.random() < P_SPLIT_SURNAME and len(last) >= 7:
        cut = rng.randrange(3, len(last) - 3)
        last = last[:cut] + rng.choice(("-", " ")) + last[cut:]
        marks.append(plant("surname_hyphen_or_space"))
    dob = party["dob"]
    if dob is not None and rng.random() < P_DOB_SWAP and dob.day <= 12 and dob.day != dob.month:
        party["dob"] = date(dob.year, dob.day, dob.month)
        marks.append(plant("dob_day_month_swapped"))
    given = " ".join(x for x in (first, middle) if x)
    if rng.random() < P_NAME_ORDER:
        party["name"] = f"{given} {last}".strip()
        marks.append(plant("name_first_name_first"))
    else:
        party["name"] = f"{last}, {given}".strip().rstrip(",")
    party["aka"] = None
    party["aka_case"] = None
    if rng.random() < P_AKA and first:
        other = rng.choice(_SURNAME_PARTS[0]) + rng.choice(_SURNAME_PARTS[2])
        party["aka"] = f"{other}, {first}"
        marks.append(plant("aka"))


def _invented_party(pid: str, rng: random.Random, template: dict | None) -> dict:
    last = "".join(rng.choice(part) for part in _SURNAME_PARTS)
    if template is not None:  # a different person who shares a birth date and a given name
        _, first, _ = _split_name(template["name"]) if "," in template["name"] else ("", template["name"].split()[0], "")
        dob = template["dob"]
    else:
        first = rng.choice(_GIVEN)
        dob = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 45))
    return {"id": pid, "name": f"{last}, {first}", "dob": dob, "cii": f"A{rng.randrange(10**7, 10**8)}" if rng.random() < 0.5 else "",
            "race": rng.choice(("Hispanic", "Black", "White", "Asian", "Other")), "sex": rng.choice(("Male", "Male", "Female")),
            "subjects": [], "planted": []}


def _new_case(rng: random.Random, when: date, level: str, taken: set) -> str:
    while True:
        case = f"{when.year % 100:02d}{'F' if level == 'F' else 'M'}{rng.randrange(10**5):05d}"
        if case not in taken:
            taken.add(case)
            return case


def _county_only_case(writer: _Writer, party: dict, name: str, rng: random.Random, taken: set) -> tuple[int, dict]:
    num, sub, level = rng.choice(_CANNABIS)
    dob = party["dob"] or date(1970, 1, 1)
    lo = max(dob + timedelta(days=int(19 * 365.25)), date(1985, 1, 1))
    hi = date(2016, 6, 30)
    when = lo + timedelta(days=rng.randrange(max(1, (hi - lo).days))) if lo < hi else hi
    case = _new_case(rng, when, level, taken)
    sentence = "FINE $250" if level != "F" else rng.choice(("3 YRS PROBATION", "180 DAYS JAIL; 3 YRS PROBATION", "16 MOS PRISON"))
    line = writer.add(party["id"], case, name, party["dob"], party["cii"], f"{num}{sub} {rng.choice(('H&S', 'HS'))}",
                      rng.choice(_LEVEL_TEXT[level]), rng.choice(_CONVICTED), when, sentence,
                      "Superior Court", party["race"], party["sex"])
    return line, {"record": "conviction", "kind": "county_only", "county_party_id": party["id"], "cannabis": True,
                  "doj_subject_id": party["subjects"][0] if party["subjects"] else ""}


def _other_case(writer: _Writer, party: dict, rng: random.Random, taken: set) -> None:
    law, num, sub, level = rng.choice(_OTHER)
    dob = party["dob"] or date(1970, 1, 1)
    when = max(dob + timedelta(days=int(18.5 * 365.25)), date(1980, 1, 1)) + timedelta(days=rng.randrange(9000))
    when = min(when, date(2024, 6, 30))
    case = _new_case(rng, when, level, taken)
    convicted = rng.random() < 0.85
    writer.add(party["id"], case, party["name"], party["dob"], party["cii"], f"{num}{sub.upper()} {law}",
               rng.choice(_LEVEL_TEXT[level]), rng.choice(_CONVICTED) if convicted else "Dismissed", when,
               ("2 YRS PROBATION" if level == "F" else "30 DAYS JAIL") if convicted else "", "Superior Court",
               party["race"], party["sex"])


def _other_section(code_section: str | None, rng: random.Random) -> str:
    swaps = {"11359": "HS 11360(a)", "11360": "HS 11359", "11358": "HS 11359", "11357": "HS 11358"}
    for num, other in swaps.items():
        if code_section and num in code_section:
            return other
    return "HS 11359"


# --- scoring a reconciliation against the truth (tests and benchmarks) ------------------------

def _pr(truth: set, found: set) -> dict:
    hit = len(truth & found)
    return {"truth": len(truth), "found": len(found), "correct": hit,
            "precision": hit / len(found) if found else 1.0, "recall": hit / len(truth) if truth else 1.0}


def score_against_truth(reconciliation, truth_path) -> dict:
    """Precision and recall of the person and conviction links (accepted links, and all links
    shown to the clerk including proposed ones) and each list's count against the truth file.

    Counts of one case that are identical in every field the records hold (two counts of 11359
    on the same day) cannot be told apart by anyone: pairing them either way counts as right.
    """
    from .reconcile.linkage import person_key

    truth = pl.read_csv(local_path(truth_path), infer_schema=False)
    lk = reconciliation.linkage
    tp = truth.filter(pl.col("record") == "person", pl.col("kind") == "linked")
    true_people = {(person_key(c), d) for c, d in tp.select("county_party_id", "doj_subject_id").iter_rows()}
    people = {k: {(c, d) for c, d in lk.people.filter(pl.col("status").is_in(v)).select("c_person", "d_person").iter_rows()}
              for k, v in (("accepted", ["auto", "confirmed"]), ("all", ["auto", "confirmed", "proposed"]))}

    sig_cols = ["court_case_number", "code_section", "level", "conviction_date", "convicted"]
    dsig = lk.doj_records.select("d_rec", pl.concat_str([pl.col("d_person")] + [pl.col(c).cast(pl.String).fill_null("")
                                                                                for c in sig_cols], separator="|").alias("sig"))
    sig_of = dict(dsig.iter_rows())
    line_rec = dict(lk.county_records.select("source_line", "c_rec").iter_rows())
    tc = truth.filter(pl.col("record") == "conviction", pl.col("kind").is_in(["both", "both_disagreeing"]))
    true_conv = {(line_rec.get(int(line)), sig_of.get(d, d)) for line, d in tc.select("county_line", "doj_record").iter_rows()}
    conv = {k: {(c, sig_of.get(d, d)) for c, d in lk.convictions.filter(pl.col("status").is_in(v)).select("c_rec", "d_rec").iter_rows()}
            for k, v in (("accepted", ["auto", "confirmed"]), ("all", ["auto", "confirmed", "proposed"]))}
    # only links between records the truth speaks of (the export's other people have no truth)
    known_c = {c for c, _ in true_conv}
    known_d = {d for _, d in true_conv}
    conv = {k: {p for p in v if p[0] in known_c or p[1] in known_d} for k, v in conv.items()}

    cannabis = truth.filter(pl.col("record") == "conviction", pl.col("cannabis") == "true")
    lists_truth = {k: int(cannabis.filter(pl.col("kind") == k).height)
                   for k in ("both", "both_disagreeing", "doj_only", "county_only")}
    return {
        "people": {k: _pr(true_people, v) for k, v in people.items()},
        "convictions": {k: _pr(true_conv, v) for k, v in conv.items()},
        "lists": {"truth": lists_truth, "found": dict(reconciliation.counts["lists"])},
    }
