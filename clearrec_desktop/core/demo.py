"""Synthetic California DOJ bulk extracts for demos, tests and benchmarks (`clearrec demo-data`).

Everything is invented: surnames are built from made-up syllables, SSNs start with 9 (a range
never issued), CII / CDL / FBI numbers are random. The layout follows
docs/reference doj-extract.md: 95 comma-separated fields, RFC 4180 quoting, `\\n` line ends.

With ``traps=True`` the file also carries, at low rates, every data-quality problem listed
there, and the returned stats count what was injected so tests can check that the importer
noticed each one. Counting units (see ``INJECTED_KEYS``):

- value traps count field values (a row with a bad date in two columns counts twice);
- conviction traps count conviction counts (distinct SUBJECT_ID + CNT_ORDER on COURT ACTION
  rows whose DISP_DESCR starts with CONVICTED), at most one such trap per count;
- person traps count SUBJECT_IDs; malformed lines count lines.

A trap is counted only when the row that shows it was written, so cutting the last person
short keeps the numbers exact. Malformed lines are only ever made from rows that carry no
other trap, so every other count can be checked on the well-formed lines alone.
"""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path

from clearrec_desktop.core.errors import InputError

from ..core.ingest.doj import DOJ_COLUMNS as _COLUMNS

__all__ = ["write_demo_extract", "INJECTED_KEYS", "PAD_COLUMNS", "CA_COUNTIES"]

_IX = {name: i for i, name in enumerate(_COLUMNS)}
_NCOLS = len(_COLUMNS)
_SEPARATORS = ("REQ_SEG_SEP", "PII_SEG_SEP", "PDR_SEG_SEP", "CYC_SEG_SEP", "STP_SEG_SEP",
               "CNT_SEG_SEP", "SENT_SEG_SEP", "END_OF_REC")

# Column positions used in the row builders.
(_RECORD_ID, _SUBJECT_STATUS, _SUBJECT_ID, _REQ_CII, _REQ_NAME, _REQ_GENDER, _REQ_DOB,
 _CII, _PRI_NAME, _GENDER, _PRI_DOB, _PRI_SSN, _PRI_CDL, _FBI, _RACE_CODE, _RACE_DESCR,
 _EYE_CODE, _EYE_DESCR, _HAIR_CODE, _HAIR_DESCR, _HEIGHT, _WEIGHT, _SINGLE_SOURCE,
 _MULTI_SOURCE, _POB_CODE, _POB_NAME, _POB_TYPE, _CITIZENSHIP, _CYC_ORDER, _CYC_DATE,
 _STP_ORDER, _STP_DATE, _STP_TYPE_CODE, _STP_TYPE_DESCR, _ORI_TYPE, _ORI_TYPE_DESCR,
 _ORI_CODE, _ORI_DESCR, _CNTY_CODE, _CNTY_NAME, _CNT_ORDER, _DISP_DATE, _OFN, _OFF_CODE,
 _OFF_DESCR, _OFF_TOC, _DOFF_CODE, _DOFF_DESCR, _DOFF_TOC, _COFF_ORDER, _COFF_CODE,
 _COFF_DESCR, _COFF_TOC, _FE_ORDER, _FE_ARR_AGY, _FE_DOCKET, _FE_BOOKING, _FE_CRT_CASE,
 _FE_WARRANT, _DISP_ORDER, _DISP_CODE, _DISP_DESCR, _CONV_CODE, _CONV_DESCR, _SENT_ORDER,
 _SENT_LOC_CODE, _SENT_LOC_DESCR, _SENT_LENGTH, _SENT_TIME_CODE, _SENT_TIME_DESCR,
 _CYC_AGE, _CII_TYPE, _CII_TYPE_ALPHA, _COMMENT) = (_IX[c] for c in (
    "RECORD_ID", "SUBJECT_STATUS", "SUBJECT_ID", "REQ_CII_NUMBER", "REQ_NAME", "REQ_GENDER",
    "REQ_DOB", "CII_NUMBER", "PRI_NAME", "GENDER", "PRI_DOB", "PRI_SSN", "PRI_CDL",
    "FBI_NUMBER", "RACE_CODE", "RACE_DESCR", "EYE_COLOR_CODE", "EYE_COLOR_DESCR",
    "HAIR_COLOR_CODE", "HAIR_COLOR_DESCR", "HEIGHT", "WEIGHT", "SINGLE_SOURCE",
    "MULTI_SOURCE", "POB_CODE", "POB_NAME", "POB_TYPE", "CITIZENSHIP_LIST", "CYC_ORDER",
    "CYC_DATE", "STP_ORDER", "STP_EVENT_DATE", "STP_TYPE_CODE", "STP_TYPE_DESCR",
    "STP_ORI_TYPE", "STP_ORI_TYPE_DESCR", "STP_ORI_CODE", "STP_ORI_DESCR",
    "STP_ORI_CNTY_CODE", "STP_ORI_CNTY_NAME", "CNT_ORDER", "DISP_DATE", "OFN",
    "OFFENSE_CODE", "OFFENSE_DESCR", "OFFENSE_TOC", "DISP_OFFENSE_CODE",
    "DISP_OFFENSE_DESCR", "DISP_OFFENSE_TOC", "CONV_OFFENSE_ORDER", "CONV_OFFENSE_CODE",
    "CONV_OFFENSE_DESCR", "CONV_OFFENSE_TOC", "FE_NUM_ORDER", "FE_NUM_ARR_AGY",
    "FE_NUM_DOCKET", "FE_NUM_BOOKING", "FE_NUM_CRT_CASE", "FE_NUM_WARRANT", "DISP_ORDER",
    "DISP_CODE", "DISP_DESCR", "CONV_STAT_CODE", "CONV_STAT_DESCR", "SENT_ORDER",
    "SENT_LOC_CODE", "SENT_LOC_DESCR", "SENT_LENGTH", "SENT_TIME_CODE", "SENT_TIME_DESCR",
    "CYC_AGE", "CII_TYPE", "CII_TYPE_ALPHA", "COMMENT_TEXT"))

# Columns that may get trailing-space padding (disjoint from every other value trap's
# columns, so each padded value is counted once and only as padding).
PAD_COLUMNS = ("SUBJECT_ID", "SUBJECT_STATUS", "CII_NUMBER", "PRI_NAME", "GENDER", "PRI_DOB",
               "RACE_DESCR", "STP_TYPE_DESCR", "STP_ORI_CODE", "CNT_ORDER", "OFFENSE_TOC",
               "DISP_DESCR", "SENT_LOC_DESCR", "SENT_LENGTH", "SENT_TIME_CODE", "CYC_AGE",
               "FE_NUM_INCIDENT", "HEIGHT", "WEIGHT")
_PAD_IX = tuple(_IX[c] for c in PAD_COLUMNS)
# Unimportant identifier columns that sometimes hold a NULL placeholder (OFN also does).
_NULL_IX = (_PRI_CDL, _FBI, _FE_BOOKING)

INJECTED_KEYS = {
    "padded_values": "values padded with trailing spaces (columns in PAD_COLUMNS)",
    "null_values": "values written as NULL / NULL + spaces (OFN, PRI_CDL, FBI_NUMBER, FE_NUM_BOOKING)",
    "county_variants": "STP_ORI_CNTY_NAME values in other case or spacing",
    "dates_partial": "CYC_DATE / STP_EVENT_DATE / DISP_DATE values like 19800000, 19800600, 198006",
    "dates_blank": "blank CYC_DATE / STP_EVENT_DATE / DISP_DATE values",
    "dates_junk": "CYC_DATE / STP_EVENT_DATE / DISP_DATE values that are not dates (ABCDEFGH, 19850231, 00000000)",
    "comment_only_charges": "convictions whose OFFENSE_DESCR is blank or SEE COMMENT FOR CHARGE",
    "comment_other_cannabis": "convictions whose comment names another cannabis section",
    "section_variants": "cannabis convictions with the section written non-canonically",
    "attempt_conspiracy": "cannabis convictions written as 664/... or 182(A)(1) PC/...",
    "lookalike_sections": "convictions under 11357.5, 11358.5, 11359.5, 11360.5 or 211360",
    "wrong_code_letter": "cannabis section numbers under PC or VC",
    "blank_conv_level": "convictions with blank CONV_STAT_CODE / CONV_STAT_DESCR",
    "conv_offense_differs": "cannabis convictions whose CONV_OFFENSE_DESCR (the convicted charge) differs from OFFENSE_DESCR",
    "padded_levels": "CONV_STAT_DESCR values padded with spaces (FELONY   , \" MISDEMEANOR\")",
    "disposition_leading_spaces": "DISP_DESCR values with leading spaces (\"  CONVICTED-JAIL\")",
    "duplicate_people": "extra SUBJECT_IDs with the same PRI_NAME and PRI_DOB as an earlier one",
    "dob_after_conviction": "people whose PRI_DOB is after one of their conviction dates",
    "malformed_short": "lines with 94 fields",
    "malformed_long": "lines with 96 fields (unquoted comma in PRI_NAME, or an extra field)",
    "malformed_quote": "lines with an unbalanced double quote opening COMMENT_TEXT",
}

CA_COUNTIES = (
    "ALAMEDA", "ALPINE", "AMADOR", "BUTTE", "CALAVERAS", "COLUSA", "CONTRA COSTA",
    "DEL NORTE", "EL DORADO", "FRESNO", "GLENN", "HUMBOLDT", "IMPERIAL", "INYO", "KERN",
    "KINGS", "LAKE", "LASSEN", "LOS ANGELES", "MADERA", "MARIN", "MARIPOSA", "MENDOCINO",
    "MERCED", "MODOC", "MONO", "MONTEREY", "NAPA", "NEVADA", "ORANGE", "PLACER", "PLUMAS",
    "RIVERSIDE", "SACRAMENTO", "SAN BENITO", "SAN BERNARDINO", "SAN DIEGO", "SAN FRANCISCO",
    "SAN JOAQUIN", "SAN LUIS OBISPO", "SAN MATEO", "SANTA BARBARA", "SANTA CLARA",
    "SANTA CRUZ", "SHASTA", "SIERRA", "SISKIYOU", "SOLANO", "SONOMA", "STANISLAUS", "SUTTER",
    "TEHAMA", "TRINITY", "TULARE", "TUOLUMNE", "VENTURA", "YOLO", "YUBA",
)
# Where people's other events happen (weights roughly follow caseload).
_OTHER_COUNTIES = (("LOS ANGELES", 10), ("ALAMEDA", 4), ("SAN JOAQUIN", 3), ("SACRAMENTO", 4),
                   ("FRESNO", 3), ("KERN", 2), ("SAN DIEGO", 4), ("ORANGE", 3),
                   ("RIVERSIDE", 3), ("SAN BERNARDINO", 3), ("CONTRA COSTA", 2),
                   ("SANTA CLARA", 3), ("YOLO", 1), ("PLACER", 1), ("STANISLAUS", 1),
                   ("HUMBOLDT", 1), ("MENDOCINO", 1), ("SAN FRANCISCO", 2))

# Invented name parts: combinations are meant to sound plausible, not to match anyone.
_SUR_HEAD = ("BRAM", "CAL", "DOR", "ELD", "FARN", "GAV", "HOL", "IVR", "JAND", "KEL", "LOR",
             "MARV", "NOL", "ORM", "PEL", "QUIN", "RAD", "SOL", "TAM", "VAL", "WEN", "YAR",
             "ZAN", "AST", "BEL", "COR", "DRAV", "EST", "FEN", "GIL", "HAV", "MOR", "TREV",
             "ULB", "VESP", "OST", "PRAV", "SEL", "TOR", "ARD")
_SUR_MID = ("", "", "", "", "A", "E", "I", "O", "AN", "EL", "ER", "OR")
_SUR_TAIL = ("BECK", "DALE", "FORTH", "GROVE", "HURST", "LOWE", "MERE", "NESS", "OVA", "RIDGE",
             "SBY", "TON", "VARA", "WICK", "ZOLA", "ENDA", "ARRO", "ILLO", "EZA", "UCCI",
             "OSKI", "ANDER", "ETTE", "MANN", "STEAD", "ADA", "IRRE", "OZA", "UNDO", "AVIK",
             "EROS", "INA", "OLTZ", "ASCO", "EDES", "ULLA", "ORNE", "IAGO", "ESKA", "AMBE")
_FIRST = ("ARVEN", "BELISA", "CORIN", "DESMA", "ELRIC", "FAVIO", "GRETA", "HALDEN", "ILSA",
          "JORVAN", "KALINDA", "LUCAN", "MIRELA", "NAVID", "ORLENA", "PAXTER", "QUILLA",
          "RODEN", "SAVINA", "TOBEN", "ULRIKA", "VASCO", "WILLA", "XANDER", "YESENIA", "ZOREN",
          "ADALIZ", "BRISTO", "CELANDE", "DARIEL", "EMBERLY", "FLAVIAN", "GIDEL", "HOSMER",
          "INEZA", "JASPERO", "KORINA", "LEANDRO", "MARISOL", "NESTOR", "OPHELIN", "PRAXA",
          "RAFFIN", "SELENA", "TERZO", "UMBERTA", "VIDALIA", "WENDEL", "YAGO", "ZAIDA",
          "AMARO", "BETTINA", "CASIMIR", "DOMENA", "EZIO", "FABRIA", "GUSTAVO", "HELKA",
          "IVANO", "JOSEBA")
_INITIALS = ("",) * 6 + tuple("ABCDEFGHIJKLMNOPRSTVW")

_GENDERS = (("M", 80), ("F", 19), ("X", 1))
_RACES = ((("H", "HISPANIC"), 40), (("B", "BLACK"), 26), (("W", "WHITE"), 26),
          (("A", "ASIAN"), 3), (("I", "AMERICAN INDIAN"), 1), (("O", "OTHER"), 3),
          (("U", "UNKNOWN"), 1))
_EYES = (("BRO", "BROWN"), ("BRO", "BROWN"), ("BLK", "BLACK"), ("BLU", "BLUE"),
         ("HAZ", "HAZEL"), ("GRN", "GREEN"))
_HAIR = (("BLK", "BLACK"), ("BLK", "BLACK"), ("BRO", "BROWN"), ("BRO", "BROWN"),
         ("BLN", "BLOND"), ("GRY", "GRAY"), ("RED", "RED"))
_POB = (("CA", "CALIFORNIA", "S", "US"), ("CA", "CALIFORNIA", "S", "US"),
        ("CA", "CALIFORNIA", "S", "US"), ("MX", "MEXICO", "C", "MX"), ("TX", "TEXAS", "S", "US"),
        ("AZ", "ARIZONA", "S", "US"), ("NY", "NEW YORK", "S", "US"), ("PH", "PHILIPPINES", "C", "PH"))


def _weighted(pairs):
    """Expand (value, weight) pairs into a list for O(1) uniform picks."""
    return [value for value, weight in pairs for _ in range(weight)]


# Charges: (section, subsection, law, literal, kind, felony share). "sec" never includes the
# subsection; the canonical description is "<sec>(<SUB>) <LAW>-<LITERAL>".
_CANNABIS = _weighted([
    (("11357", "A", "HS", "POSSESS CONCENTRATED CANNABIS", "cannabis", 0.5), 8),
    (("11357", "B", "HS", "POSSESS MARIJUANA", "cannabis", 0.0), 20),
    (("11357", "C", "HS", "POSSESS MARIJUANA OVER 1 OZ", "cannabis", 0.0), 10),
    (("11357", "", "HS", "POSSESS MARIJUANA", "cannabis", 0.0), 3),
    (("11358", "", "HS", "CULTIVATE MARIJUANA", "cannabis", 0.85), 15),
    (("11359", "", "HS", "POSSESS MARIJUANA FOR SALE", "cannabis", 0.85), 25),
    (("11360", "A", "HS", "SELL/TRANSPORT MARIJUANA", "cannabis", 0.85), 14),
    (("11360", "", "HS", "SELL/TRANSPORT MARIJUANA", "cannabis", 0.9), 3),
    (("11360", "B", "HS", "GIVE/TRANSPORT 1 OZ MARIJUANA", "cannabis", 0.0), 4),
])
_OTHER = _weighted([
    (("459", "", "PC", "BURGLARY", "other", 0.8), 8),
    (("484", "A", "PC", "PETTY THEFT", "other", 0.0), 8),
    (("23152", "A", "VC", "DUI ALCOHOL/DRUGS", "other", 0.05), 10),
    (("23152", "B", "VC", "DUI ALCOHOL/0.08 PERCENT", "other", 0.05), 6),
    (("11350", "A", "HS", "POSSESS NARCOTIC CONTROLLED SUBSTANCE", "other", 0.8), 7),
    (("11377", "A", "HS", "POSSESS CONTROLLED SUBSTANCE", "other", 0.5), 7),
    (("242", "", "PC", "BATTERY", "other", 0.0), 5),
    (("273.5", "A", "PC", "INFLICT CORPORAL INJ SPOUSE/COHAB", "other", 0.5), 3),
    (("647", "F", "PC", "DISORDERLY CONDUCT:INTOX DRUG/ALCOHOL", "other", 0.0), 4),
    (("148", "A", "PC", "OBSTRUCT/RESIST PUBLIC OFFICER", "other", 0.0), 4),
    (("11364", "", "HS", "POSSESS NARCOTIC PARAPHERNALIA", "other", 0.0), 4),
    (("12500", "A", "VC", "DRIVE WITHOUT LICENSE", "other", 0.0), 4),
    (("10851", "A", "VC", "TAKE VEHICLE W/O OWNER CONSENT", "other", 0.7), 3),
    (("211", "", "PC", "ROBBERY", "other", 1.0), 2),
    (("245", "A", "PC", "ASSAULT WITH DEADLY WEAPON", "other", 0.9), 3),
    (("496", "A", "PC", "RECEIVE KNOWN STOLEN PROPERTY", "other", 0.6), 3),
    (("602", "", "PC", "TRESPASSING", "other", 0.0), 2),
    (("11550", "A", "HS", "UNDER INFLUENCE CONTROLLED SUBSTANCE", "other", 0.0), 4),
    # serious offences that are NOT super strikes or PC 290 offences (the lists must not catch them)
    (("192", "A", "PC", "VOLUNTARY MANSLAUGHTER", "other", 1.0), 1),
    (("261.5", "C", "PC", "UNLAWFUL SEX W/MINOR 3+ YRS YOUNGER", "other", 0.6), 1),
    (("207", "A", "PC", "KIDNAPPING", "other", 1.0), 1),
    (("653F", "A", "PC", "SOLICIT SPECIFIED CRIME", "other", 0.5), 1),
    (("236.1", "A", "PC", "HUMAN TRAFFICKING FOR LABOR", "other", 1.0), 1),
    (("664/211", "", "PC", "ATTEMPTED ROBBERY", "other", 1.0), 1),
])
# Super strikes and PC 290 offences ("sex" kinds get a REGISTRATION step after conviction).
_SERIOUS = _weighted([
    (("187", "A", "PC", "MURDER", "super", 1.0), 2),
    (("664/187", "A", "PC", "ATTEMPTED MURDER", "super", 1.0), 3),
    (("288", "A", "PC", "LEWD OR LASCIVIOUS ACTS W/CHILD UNDER 14", "super_sex", 1.0), 3),
    (("261", "A)(2", "PC", "RAPE BY FORCE/FEAR/ETC", "super_sex", 1.0), 2),
    (("243.4", "A", "PC", "SEXUAL BATTERY", "sex", 0.3), 2),
])
# Not Prop 64 although the number looks like it (the importer must not match them).
_LOOKALIKE = (
    ("11357.5", "", "HS", "SYNTHETIC CANNABINOIDS", "lookalike", 0.0),
    ("11358.5", "", "HS", "CONTROLLED SUBSTANCE VIOLATION", "lookalike", 0.0),
    ("11359.5", "", "HS", "CONTROLLED SUBSTANCE VIOLATION", "lookalike", 0.3),
    ("11360.5", "", "HS", "CONTROLLED SUBSTANCE VIOLATION", "lookalike", 0.3),
    ("211360", "", "HS", "TRANSPORT", "lookalike", 0.5),
)
_REGISTRATION_DESCR = "290 PC-REGISTRATION OF SEX OFFENDER"


def _count(descr: str, level: str = "F", **options) -> dict:
    """One planted count: the charge text, its level, and options: ``conv`` (CONV_OFFENSE_DESCR
    when it differs from the charge), ``conv_level``, ``sentence`` ((type, length, unit)),
    ``disp`` (the disposition text as written), ``stat`` (CONV_STAT_DESCR as written), ``super``
    (counted in the super-strike statistic)."""
    return dict(descr=descr, level=level, **options)


_CULT, _SALE, _SELL = "11358 HS-CULTIVATE MARIJUANA", "11359 HS-POSSESS MARIJUANA FOR SALE", "11360(A) HS-SELL/TRANSPORT MARIJUANA"
_MURDER = "187(A) PC-MURDER"
# Hand-written records planted in every generated file, one person each, so a demo always shows
# the cases of prop64-rules.md that are easy to get wrong (issue 11). (case id, needs traps,
# PRI_DOB, cycles); a cycle is (date as written, counts); every cycle has an arrest step and a
# court step on that date in the file's county. tests/core/test_demo.py screens them.
_PLANTED = (
    ("life_offence_prior", False, "19600415", (("19850301", (_count("205 PC-AGGRAVATED MAYHEM", super=True),)), ("19900301", (_count(_CULT),)))),
    ("aggravated_arson_prior", False, "19610210", (("19860512", (_count("451.5 PC-AGGRAVATED ARSON", super=True),)),
                                                   ("19910707", (_count(_CULT),)))),
    ("child_death_prior", False, "19580923", (("19840110", (_count("273AB PC-ASSAULT CHILD CAUSING DEATH", super=True),)),
                                              ("19930302", (_count(_SALE),)))),
    ("gang_same_count", False, "19620704", (("19870303", (_count("215 PC/186.22(B)(4) PC-CARJACKING FOR GANG", super=True),)),
                                            ("19920404", (_count(_CULT),)))),
    ("gang_same_case", False, "19631111", (("19880505", (_count("215 PC-CARJACKING", super=True),
                                                           _count("186.22(B)(4) PC-CRIMINAL STREET GANG ENHANCEMENT"))),
                                           ("19940606", (_count(_SELL),)))),
    ("carjacking_without_gang", False, "19640220", (("19890707", (_count("215 PC-CARJACKING"),)), ("19950808", (_count(_CULT),)))),
    ("solicit_murder_653f_b", False, "19590606", (("19830909", (_count("653F(B) PC-SOLICIT MURDER", super=True),)), ("19900101", (_count(_SALE),)))),
    ("solicit_653f_a", False, "19600707", (("19841010", (_count("653F(A) PC-SOLICIT SPECIFIED CRIME"),)), ("19910202", (_count(_SALE),)))),
    ("solicit_rape_653f_c", False, "19610808", (("19851111", (_count("653F(C) PC-SOLICIT RAPE BY FORCE"),)),
                                                ("19920303", (_count(_SALE),)))),
    ("assault_intent_rape_220", False, "19620909", (("19860101", (_count("220(A)(1) PC-ASSAULT W/INTENT TO COMMIT RAPE"),)),
                                                    ("19930404", (_count(_SELL),)))),
    ("assault_intent_mayhem_220", False, "19631010", (("19870202", (_count("220(A)(1) PC-ASSAULT W/INTENT TO COMMIT MAYHEM"),)),
                                                      ("19940505", (_count(_SELL),)))),
    ("manslaughter_not_listed", False, "19600303", (("19850404", (_count("192(A) PC-VOLUNTARY MANSLAUGHTER"),)),
                                                    ("19920606", (_count(_CULT),)))),
    ("unlawful_sex_not_listed", False, "19650505", (("19880808", (_count("261.5(C) PC-UNLAWFUL SEX W/MINOR 3+ YRS YOUNGER"),)),
                                                    ("19940909", (_count(_SALE),)))),
    ("age19_concentrate_felony", False, "19760115", (("19950601", (_count("11357(A) HS-POSSESS CONCENTRATED CANNABIS"),)),)),
    ("age20_cultivation_felony", False, "19750310", (("19950601", (_count(_CULT),)),)),
    ("give_away_21_infraction", False, "19650101", (("19950601", (_count("11360(B) HS-GIVE/TRANSPORT 1 OZ MARIJUANA", "I"),)),)),
    ("give_away_21_misdemeanor", False, "19650202", (("19960601", (_count("11360(B) HS-GIVE/TRANSPORT 1 OZ MARIJUANA", "M"),)),)),
    ("undated_murder_59", True, "19670101", (("", (_count(_MURDER, super=True),)), ("19900101", (_count(_SALE),)))),
    ("partial_murder_prior", True, "19660101", (("19800000", (_count(_MURDER, super=True),)), ("19900101", (_count(_SALE),)))),
    ("dob_after_conviction", True, "20050101", (("20000101", (_count("11357(B) HS-POSSESS MARIJUANA"),)),
                                                ("20010101", (_count(_SALE),)))),
    ("implausible_sentence", True, "19700101", (("20100101", (_count(_SELL, sentence=("PRISON", "-10", "Y")),)),)),
    ("undated_other_conviction", True, "19700303", (("20000101", (_count(_SALE),)), ("", (_count("459 PC-BURGLARY"),)))),
    ("padded_level", True, "19710404", (("19990101", (_count(_SALE, stat="  FELONY   "),)),)),
    ("leading_space_disposition", True, "19720505", (("19980101", (_count(_CULT, disp="  CONVICTED-PROBATION"),)),)),
    ("convicted_offense_differs", True, "19730606", (("19970101", (_count(_SALE, conv="11357(C) HS-POSSESS MARIJUANA OVER 1 OZ",
                                                                          conv_level="M"),)),)),
    ("lookalikes", True, "19740707", (("19960101", (_count("11357.5 HS-SYNTHETIC CANNABINOIDS", "M"),
                                                    _count("11360.5 HS-CONTROLLED SUBSTANCE VIOLATION"),
                                                    _count("211360 HS-TRANSPORT"))),
                                      ("19970101", (_count(_SALE),)))),
)
PLANTED_CASES = tuple(c[0] for c in _PLANTED)
_CANNABIS_TEXT = re.compile(r"^(11357|11358|11359|11360)[ (]")
_LOOKALIKE_TEXT = re.compile(r"^(11357\.5|11358\.5|11359\.5|11360\.5|211360)\b")
_PARTIAL_TEXT = re.compile(r"^(19|20)\d\d(0000|(0[1-9]|1[0-2])00|0[1-9]|1[0-2])$")


def _date_kind(value: str) -> str | None:
    """The date trap a planted date value counts as (None for a good date)."""
    if value == "":
        return "dates_blank"
    if _PARTIAL_TEXT.match(value):
        return "dates_partial"
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        return None if len(value) == 8 else "dates_junk"
    except ValueError:
        return "dates_junk"
_SERIOUS_KINDS = ("super", "super_sex", "sex")
# Events that are plain statistics, not traps.
_NEUTRAL = frozenset({"convictions", "multi_part_convictions", "cannabis_convictions",
                      "cannabis_convictions_in_county", "super_strike_convictions",
                      "second_parts", "registrations", "deceased"})

# Invented numeric offence codes, stable per charge description.
_OFFENSE_CODES = {}
for _n, _charge in enumerate(dict.fromkeys(_CANNABIS + _OTHER + _SERIOUS + list(_LOOKALIKE))):
    _OFFENSE_CODES[_charge] = str(21000 + 37 * _n)

_DISP_CODES = {"CONVICTED-PROBATION": "1101", "CONVICTED-JAIL": "1102",
               "CONVICTED-PRISON": "1103", "CONVICTED-FINE": "1104",
               "DISMISSED/CHARGE DROPPED": "2201", "PROS REJ-LACK OF SUFF EVIDENCE": "3301",
               "PROS REJ-INTEREST OF JUSTICE": "3302", "PROS REJ-OTHER": "3309",
               "REL/TOT OTHER JURIS/AUTH": "4401"}
_LEVELS = {"F": ("F", "FELONY"), "M": ("M", "MISDEMEANOR"), "I": ("I", "INFRACTION")}
_SENT = {"PROBATION": "P", "JAIL": "J", "PRISON": "S", "FINE": "F"}
_TIME = {"D": "DAYS", "M": "MONTHS", "Y": "YEARS", "N": ""}
_NOTES = ("CREDIT FOR TIME SERVED", "CONCURRENT", "PLEA NOLO CONTENDERE", "FINE STAYED",
          "COND: NO DRUG USE", "PROB MODIFIED")

_D1975 = date(1975, 1, 1).toordinal()
_DEND = date(2024, 12, 31).toordinal()
_DLAST = date(2025, 6, 30).toordinal()
_DPROP64 = date(2016, 11, 9).toordinal()
_D2011 = date(2011, 1, 1).toordinal()
_DOB_LO = date(1940, 1, 1).toordinal()
_DOB_HI = date(2002, 12, 31).toordinal()

# Trap rates (traps=True). Row rates apply per data row, step rates per step, etc.
_P_PAD_ROW = 0.02
_P_NULL_ROW = 0.008
_P_NULL_OFN = 0.01
_P_COUNTY = 0.015
_P_BAD_COURT_DATE = 0.012
_P_BAD_CYC_DATE = 0.004
_P_LOOKALIKE = 0.008
_P_DUP_PERSON = 0.005
_P_DOB_AFTER = 0.004
# Conviction traps, cumulative on one draw: (upper bound, trap), cannabis counts only
# except comment-only and blank level which may hit any conviction.
_CONV_TRAPS = ((0.015, "comment_only_charges"), (0.022, "comment_other_cannabis"),
               (0.042, "section_variants"), (0.052, "attempt_conspiracy"),
               (0.056, "wrong_code_letter"), (0.066, "blank_conv_level"),
               (0.081, "conv_offense_differs"))
_P_PAD_LEVEL = 0.01    # per court row of a conviction
_P_LEAD_DISP = 0.01    # per court row
# A plea to another cannabis charge: what OFFENSE_DESCR charged -> what CONV_OFFENSE_DESCR convicted.
_PLEA = {"11359": ("11357", "C", "HS", "POSSESS MARIJUANA OVER 1 OZ", "cannabis", 0.0),
         "11360": ("11359", "", "HS", "POSSESS MARIJUANA FOR SALE", "cannabis", 0.85),
         "11358": ("11357", "B", "HS", "POSSESS MARIJUANA", "cannabis", 0.0),
         "11357": ("11357", "B", "HS", "POSSESS MARIJUANA", "cannabis", 0.0)}


def _q(value: str) -> str:
    """RFC 4180 quoting, only where needed."""
    if "," in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _ymd(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat().replace("-", "")


def _age(dob: date, ordinal: int) -> int:
    at = date.fromordinal(ordinal)
    return at.year - dob.year - ((at.month, at.day) < (dob.month, dob.day))


def _canonical(charge) -> str:
    sec, sub, law, lit = charge[0], charge[1], charge[2], charge[3]
    return f"{sec}({sub}) {law}-{lit}" if sub else f"{sec} {law}-{lit}"


def _section(charge) -> str:
    return f"{charge[0]}({charge[1]})" if charge[1] else charge[0]


class _Generator:
    def __init__(self, rng: random.Random, county: str, traps: bool):
        self.rng = rng
        self.county = county
        self.traps = traps
        self.next_subject = rng.randrange(1_000_000, 4_000_000)
        self.recent: list[tuple] = []  # people a duplicate SUBJECT_ID may copy
        others = [(c, w) for c, w in _OTHER_COUNTIES if c != county]
        self.other_counties = _weighted(others)
        self.genders = _weighted(_GENDERS)
        self.races = _weighted(_RACES)
        self.courts = {}
        self.agencies = {}
        for c in CA_COUNTIES:
            code = f"{CA_COUNTIES.index(c) + 1:02d}"
            branches = [f"{c} SUPERIOR COURT"] * 3
            branches += [f"{c} SUPERIOR - {d}" for d in rng.sample(("NORTH", "SOUTH", "EAST", "WEST"), rng.randint(1, 2))]
            self.courts[c] = (code, [_q(b) for b in branches])
            self.agencies[c] = (code, [("PD", "POLICE DEPARTMENT", f"CAPD{c}", f"{c} POLICE DEPT")] * 3
                                + [("SO", "SHERIFF", f"CASO{c}", f"{c} CO SHERIFF")] * 2
                                + [("HP", "HIGHWAY PATROL", f"CAHP{c}", f"CHP {c}")])
        base = [""] * _NCOLS
        for name in _SEPARATORS:
            base[_IX[name]] = "#"
        self.base = base

    # -- small helpers -------------------------------------------------------------------
    def _county_variant(self, c: str) -> str:
        options = [c.title(), c.lower(), c + "  ", c + " ", " " + c]
        if " " in c:
            options.append(c.replace(" ", "  "))
        return self.rng.choice(options)

    def _bad_date(self, ordinal: int) -> tuple[str, str]:
        r = self.rng.random()
        good = _ymd(ordinal)
        if r < 0.45:
            return "dates_partial", self.rng.choice((good[:4] + "0000", good[:6] + "00", good[:6]))
        if r < 0.7:
            return "dates_blank", ""
        return "dates_junk", self.rng.choice(("ABCDEFGH", good[:4] + "0231", good[:4] + "1345", "00000000"))

    def _level(self, charge, when: int) -> str:
        rng = self.rng
        share = charge[5]
        if charge[4] == "cannabis" and when >= _DPROP64:
            share = min(share, 0.15)  # after Prop 64 these are mostly misdemeanors
        if rng.random() < share:
            return "F"
        if charge[4] == "cannabis" and charge[0] == "11357" and charge[1] == "B" and when >= _D2011:
            return "I"  # SB 1449 made small possession an infraction from 2011
        if charge[4] == "cannabis" and charge[0] == "11360" and charge[1] == "B" and rng.random() < 0.2:
            return "I"
        return "M"

    def _sentence(self, level: str, kind: str) -> list[tuple[str, str, str]]:
        rng = self.rng
        r = rng.random()
        if level == "I":
            return [("FINE", str(rng.randrange(50, 300, 25)), "N")]
        if kind.startswith("super"):
            return [("PRISON", str(rng.choice((7, 9, 15, 25))), "Y")]
        if level == "M":
            if r < 0.35:
                return [("PROBATION", str(rng.randint(1, 3)), "Y")]
            if r < 0.58:
                return [("JAIL", str(rng.choice((2, 5, 10, 30, 45, 90, 180))), "D")]
            if r < 0.76:
                return [("FINE", str(rng.randrange(100, 1000, 50)), "N")]
            if r < 0.96:
                return [("JAIL", str(rng.choice((5, 10, 30, 60, 90))), "D"),
                        ("PROBATION", str(rng.randint(1, 3)), "Y")]
            return [("PROBATION", str(rng.randint(1, 3)), "Y"),
                    ("FINE", str(rng.randrange(100, 1000, 50)), "N")]
        if r < 0.28:
            return [("PROBATION", str(rng.randint(3, 5)), "Y")]
        if r < 0.42:
            return [("JAIL", str(rng.choice((90, 120, 180, 270, 365))), "D")]
        if r < 0.64:
            return [("PRISON", *rng.choice((("16", "M"), ("2", "Y"), ("3", "Y"), ("4", "Y"))))]
        if r < 0.97:
            return [("JAIL", str(rng.choice((6, 9, 12))), "M"),
                    ("PROBATION", str(rng.randint(3, 5)), "Y")]
        return [("PRISON", "2", "Y"), ("FINE", str(rng.randrange(200, 2000, 100)), "N")]

    def _charge_trap(self, charge, trap: str) -> tuple[str, str]:
        """Description and comment for a conviction carrying ``trap``."""
        rng = self.rng
        sec, sub, law, lit = charge[0], charge[1], charge[2], charge[3]
        s = _section(charge)
        if trap == "comment_only_charges":
            short = lit.split()[0]
            comment = rng.choice((f"{s} {law}-{short}", f"CHRG {s} {law}", f":CHRG {s} {law}"))
            return rng.choice(("", "SEE COMMENT FOR CHARGE")), comment
        if trap == "comment_other_cannabis":
            while True:
                other = rng.choice(_CANNABIS)
                if other[0] != sec:
                    break
            form = rng.choice(("ORIG CHRG {} HS", "AMD FROM {} HS", "PLEA TO {} HS", "ALSO CHRG {} HS"))
            return _canonical(charge), form.format(_section(other))
        if trap == "section_variants":
            forms = [f"HS {s}", f"HS {s}-{lit}", f"{s} HS", f"{s}HS-{lit}", f"HS{s}",
                     f" {s}  HS-{lit}", f"{s} HS-{lit.replace(' ', '  ', 1)}"]
            if sub:
                low = f"{sec}({sub.lower()})"
                forms += [f"{low} HS-{lit}", f"{low} HS", f"{s}", f"{sec} ({sub}) HS-{lit}",
                          f"{sec}({sub}) HS -{lit}"]
            else:
                forms += [f"{sec}HS", f"{sec}  HS-{lit}"]
            return rng.choice(forms), ""
        if trap == "attempt_conspiracy":
            form = rng.choice(("664/{} HS-ATT {}", "664-{} HS-ATT {}", "664.{} HS-ATT {}",
                               "182(A)(1) PC/{} HS-CONSPIRACY: {}"))
            return form.format(s, lit), ""
        if trap == "wrong_code_letter":
            return f"{s} {rng.choice(('PC', 'VC'))}-{lit}", ""
        raise AssertionError(trap)

    # -- a planted person (issue 11 cases) ---------------------------------------------------
    def planted(self, case) -> list[tuple[list[str], tuple | None, bool]]:
        """The rows of one planted person (``_PLANTED``), with the events they carry; never
        broken into a malformed line, never copied as a duplicate person."""
        rng = self.rng
        _, _, dob_text, cycles = case
        sid = str(self.next_subject)
        self.next_subject += rng.randint(1, 40)
        name = _q(rng.choice(_SUR_HEAD) + rng.choice(_SUR_MID) + rng.choice(_SUR_TAIL) + "," + rng.choice(_FIRST))
        gender, race = rng.choice(self.genders), rng.choice(self.races)
        cii = f"A{rng.randrange(10**7, 10**8)}"
        pt = self.base[:]
        pt[_SUBJECT_STATUS] = "A"
        pt[_SUBJECT_ID] = sid
        pt[_REQ_CII] = pt[_CII] = cii
        pt[_REQ_NAME] = pt[_PRI_NAME] = name
        pt[_REQ_GENDER] = pt[_GENDER] = gender
        pt[_REQ_DOB] = pt[_PRI_DOB] = dob_text
        pt[_PRI_SSN] = f"9{rng.randrange(10, 100)}-{rng.randrange(10, 100)}-{rng.randrange(1000, 10000)}"
        pt[_RACE_CODE], pt[_RACE_DESCR] = race
        pt[_CII_TYPE], pt[_CII_TYPE_ALPHA] = "C", "A"
        dob = date(int(dob_text[:4]), int(dob_text[4:6]), int(dob_text[6:8]))
        county = self.county
        code, courts = self.courts[county]
        rows: list[tuple[list[str], tuple | None, bool]] = []
        dob_after_counted = False
        for ci, (when, counts) in enumerate(cycles, start=1):
            cyc = f"{ci:03d}"
            ct = pt[:]
            ct[_CYC_ORDER] = cyc
            ct[_CYC_DATE] = when
            good = _date_kind(when) is None
            if good:
                at = date(int(when[:4]), int(when[4:6]), int(when[6:8]))
                age = at.year - dob.year - ((at.month, at.day) < (dob.month, dob.day))
                ct[_CYC_AGE] = str(age) if age >= 0 else ""
            date_events = [k for k in [_date_kind(when)] * 3 if k]   # CYC_DATE, STP_EVENT_DATE, DISP_DATE
            ofn = f"{when[2:4] or '00'}F{rng.randrange(10**5):05d}"
            for si, (tcode, tdescr) in enumerate((("A", "ARREST/DETAINED/CITED"), ("C", "COURT ACTION")), start=1):
                st = ct[:]
                st[_STP_ORDER] = f"{si:03d}"
                st[_STP_TYPE_CODE], st[_STP_TYPE_DESCR] = tcode, tdescr
                if tcode == "C":
                    st[_ORI_TYPE], st[_ORI_TYPE_DESCR], st[_ORI_CODE] = "SC", "SUPERIOR COURT", f"CASC{county}"
                    st[_ORI_DESCR] = courts[0]
                else:
                    st[_ORI_TYPE], st[_ORI_TYPE_DESCR], st[_ORI_CODE], st[_ORI_DESCR] = self.agencies[county][1][0]
                st[_CNTY_CODE], st[_CNTY_NAME] = code, county
                st[_STP_DATE] = when
                for k, cnt in enumerate(counts, start=1):
                    row = st[:]
                    row[_CNT_ORDER] = f"{cyc}{si:03d}{k:03d}000"
                    row[_DISP_DATE] = when
                    row[_OFN] = ofn
                    row[_FE_ORDER] = "001"
                    row[_OFF_DESCR] = cnt["descr"]
                    row[_OFF_TOC] = cnt["level"]
                    row[_CONV_CODE], row[_CONV_DESCR] = _LEVELS[cnt["level"]]
                    events = list(date_events)
                    if tcode == "A":
                        row[_FE_ARR_AGY] = st[_ORI_CODE]
                    else:
                        level = cnt.get("conv_level", cnt["level"])
                        convicted_text = cnt.get("conv", cnt["descr"])
                        loc, length, unit = cnt.get("sentence") or (("FINE", "100", "N") if level == "I" else ("PROBATION", "3", "Y"))
                        row[_FE_DOCKET] = row[_FE_CRT_CASE] = ofn
                        row[_DISP_ORDER] = "001"
                        dispo = f"CONVICTED-{loc}" if loc in ("PROBATION", "JAIL", "PRISON", "FINE") else "CONVICTED-PROBATION"
                        row[_DISP_CODE] = _DISP_CODES[dispo]
                        row[_DISP_DESCR] = cnt.get("disp", dispo)
                        row[_DOFF_DESCR], row[_DOFF_TOC] = cnt["descr"], cnt["level"]
                        row[_COFF_ORDER], row[_COFF_DESCR], row[_COFF_TOC] = "001", convicted_text, level
                        row[_CONV_CODE], row[_CONV_DESCR] = _LEVELS[level]
                        if "stat" in cnt:
                            row[_CONV_DESCR] = cnt["stat"]
                            events.append("padded_levels")
                        if "disp" in cnt:
                            events.append("disposition_leading_spaces")
                        if convicted_text != cnt["descr"]:
                            events.append("conv_offense_differs")
                        row[_SENT_ORDER] = "001"
                        row[_SENT_LOC_DESCR], row[_SENT_LOC_CODE] = loc, _SENT.get(loc, "")
                        row[_SENT_LENGTH], row[_SENT_TIME_CODE], row[_SENT_TIME_DESCR] = length, unit, _TIME.get(unit, "")
                        events.append("convictions")
                        if _CANNABIS_TEXT.match(convicted_text):
                            events += ["cannabis_convictions", "cannabis_convictions_in_county"]
                        elif _LOOKALIKE_TEXT.match(cnt["descr"]):
                            events.append("lookalike_sections")
                        elif cnt.get("super"):
                            events.append("super_strike_convictions")
                        if good and not dob_after_counted and dob_text > when:
                            events.append("dob_after_conviction")
                            dob_after_counted = True
                    rows.append((row, tuple(events) or None, False))
        return rows

    # -- one person ----------------------------------------------------------------------
    def person(self) -> list[tuple[list[str], tuple | None, bool]]:
        """All rows of one person: (fields, events, plain) in file order.

        ``events`` names the counters to bump when that row is written; ``plain`` rows carry
        no trap at all and may be turned into malformed lines.
        """
        rng = self.rng
        traps = self.traps
        county = self.county
        sid = str(self.next_subject)
        self.next_subject += rng.randint(1, 40)
        person_events: list[str] = []
        clone = None
        if traps and self.recent and rng.random() < _P_DUP_PERSON:
            clone = rng.choice(self.recent)
            person_events.append("duplicate_people")
        if clone:
            name, dob_ord, gender, race, cii = clone
            if rng.random() < 0.5:
                cii = f"A{rng.randrange(10**7, 10**8)}"
        else:
            name = (rng.choice(_SUR_HEAD) + rng.choice(_SUR_MID) + rng.choice(_SUR_TAIL) + ","
                    + rng.choice(_FIRST))
            initial = rng.choice(_INITIALS)
            if initial:
                name += " " + initial
            dob_ord = rng.randint(_DOB_LO, _DOB_HI)
            gender = rng.choice(self.genders)
            race = rng.choice(self.races)
            cii = f"A{rng.randrange(10**7, 10**8)}"
        dob = date.fromordinal(dob_ord)

        # Cycle dates: first event at a plausible age, then gaps of months to years.
        earliest = max(_D1975, dob_ord + 5114)  # about the 14th birthday
        r = rng.random()
        age = (rng.randint(14, 17) if r < 0.05 else rng.randint(18, 20) if r < 0.22
               else rng.randint(21, 25) if r < 0.5 else rng.randint(26, 35) if r < 0.8
               else rng.randint(36, 55))
        first = dob_ord + int(age * 365.25) + rng.randrange(365)
        if first < earliest:
            first = earliest + rng.randrange(2000)
        if first > _DEND - 30:
            first = earliest + rng.randrange(max(1, _DEND - 30 - earliest))
        r = rng.random()
        n_cycles = 1 if r < 0.3 else 2 if r < 0.55 else 3 if r < 0.73 else 4 if r < 0.85 else 5 if r < 0.93 else 6
        serious = rng.choice(_SERIOUS) if rng.random() < 0.02 else None
        if serious:
            n_cycles = max(2, n_cycles)
        dates = []
        d = first
        while len(dates) < n_cycles and d <= _DEND:
            dates.append(d)
            d += 30 + int(rng.expovariate(1 / 900))
        candidates = [i for i, x in enumerate(dates) if x < _DPROP64 - 200]
        index = rng.choice(candidates) if candidates else rng.randrange(len(dates))
        serious_at = None
        if serious and len(dates) > 1:
            serious_at = rng.choice([i for i in range(len(dates)) if i != index])
        index_county = county if rng.random() < 0.98 else rng.choice(self.other_counties)

        # Plan: (date, kind, county, charges, outcome, is_index); kind is normal, registration
        # (a registrant whose registrable conviction is not on file) or deceased.
        plan = []
        for i, cd in enumerate(dates):
            if i == index:
                cy_county = index_county
            else:
                cy_county = county if rng.random() < 0.75 else rng.choice(self.other_counties)
            n_counts = 1 if (r := rng.random()) < 0.6 else 2 if r < 0.88 else 3
            charges = []
            for k in range(n_counts):
                if i == index and k == 0:
                    charges.append(rng.choice(_CANNABIS))
                elif i == serious_at and k == 0:
                    charges.append(serious)
                elif traps and rng.random() < _P_LOOKALIKE:
                    charges.append(rng.choice(_LOOKALIKE))
                else:
                    # fewer cannabis arrests once Prop 64 made most conduct lawful
                    share = 0.3 if cd < _DPROP64 else 0.08
                    charges.append(rng.choice(_CANNABIS) if rng.random() < share else rng.choice(_OTHER))
            if i == index or i == serious_at:
                outcome = "court"
            else:
                r = rng.random()
                outcome = "arrest" if r < 0.07 else "prosrej" if r < 0.11 else "court"
            plan.append((cd, "normal", cy_county, charges, outcome, i == index))
        if rng.random() < 0.003:
            plan.append((rng.randint(dates[0], _DEND), "registration", county, None, None, False))
            plan.sort(key=lambda p: p[0])
        last = max(p[0] for p in plan) + 701  # after any court date of the last cycle
        if rng.random() < 0.01 and last < _DLAST:
            plan.append((min(_DLAST, last + rng.randrange(4000)), "deceased", county, None, None, False))

        dob_after = traps and not clone and rng.random() < _P_DOB_AFTER
        if not clone and not dob_after:
            self.recent.append((name, dob_ord, gender, race, cii))
            if len(self.recent) > 64:
                del self.recent[0]
        # A wrong PRI_DOB can only be chosen once the first conviction date is known, so for
        # those people the DOB columns are filled in after all rows are built.
        pt = self.base[:]
        qname = _q(name)
        pt[_SUBJECT_STATUS] = "A"
        pt[_SUBJECT_ID] = sid
        pt[_REQ_CII] = cii
        pt[_REQ_NAME] = qname
        pt[_REQ_GENDER] = gender
        pt[_CII] = cii
        pt[_PRI_NAME] = qname
        pt[_GENDER] = gender
        pt[_PRI_SSN] = f"9{rng.randrange(10, 100)}-{rng.randrange(10, 100)}-{rng.randrange(1000, 10000)}"
        pt[_PRI_CDL] = f"Q{rng.randrange(10**6, 10**7)}"
        pt[_FBI] = f"{rng.randrange(10**5, 10**6)}{rng.choice('ABCDEFGHJK')}{rng.choice('ABCDEFGHJK')}{rng.randrange(10)}"
        pt[_RACE_CODE], pt[_RACE_DESCR] = race
        pt[_EYE_CODE], pt[_EYE_DESCR] = rng.choice(_EYES)
        pt[_HAIR_CODE], pt[_HAIR_DESCR] = rng.choice(_HAIR)
        pt[_HEIGHT] = f"{rng.choice((5, 5, 5, 6))}{rng.randrange(12):02d}"
        pt[_WEIGHT] = str(rng.randrange(110, 260))
        pt[_SINGLE_SOURCE] = "Y"
        pt[_MULTI_SOURCE] = "N"
        pt[_POB_CODE], pt[_POB_NAME], pt[_POB_TYPE], pt[_CITIZENSHIP] = rng.choice(_POB)
        pt[_CII_TYPE] = "C"
        pt[_CII_TYPE_ALPHA] = "A"
        first_conv = None
        if not dob_after:
            pt[_REQ_DOB] = pt[_PRI_DOB] = _ymd(dob_ord)

        rows: list[tuple[list[str], tuple | None, bool]] = []
        person_trapped = bool(clone) or dob_after
        pending_person = list(person_events)  # attached to the first row
        dob_pending_rows: list[list[str]] = []  # rows to receive PRI_DOB once it is known

        for ci, (cd, kind, cy_county, charges, outcome, is_index) in enumerate(plan, start=1):
            cyc = f"{ci:03d}"
            ct = pt[:]
            ct[_CYC_ORDER] = cyc
            cyc_events: list[str] = []
            if traps and not dob_after and kind == "normal" and rng.random() < _P_BAD_CYC_DATE:
                key, ct[_CYC_DATE] = self._bad_date(cd)
                cyc_events.append(key)
            else:
                ct[_CYC_DATE] = _ymd(cd)
            ct[_CYC_AGE] = str(_age(dob, cd))
            agencies = self.agencies[cy_county][1]

            steps = []  # (type code, type, date, county, agency ORI or None, outcome)
            if kind == "deceased":
                steps.append(("D", "DECEASED", cd, cy_county,
                              ("CO", "CORONER", f"CACO{cy_county}", f"{cy_county} CO CORONER"), None))
            elif kind == "registration":
                steps.append(("R", "REGISTRATION", cd, cy_county,
                              ("SO", "SHERIFF", f"CASO{cy_county}", f"{cy_county} CO SHERIFF"), None))
            else:
                agency = rng.choice(agencies)
                steps.append(("A", "ARREST/DETAINED/CITED", cd, cy_county, agency, outcome))
                if outcome == "court":
                    court_county = cy_county if rng.random() < 0.95 else rng.choice(self.other_counties)
                    court_date = min(cd + min(700, int(rng.expovariate(1 / 70))), max(cd, _DLAST))
                    steps.append(("C", "COURT ACTION", court_date, court_county, None, outcome))
                    if charges[0][4] in ("super_sex", "sex"):
                        reg_date = min(court_date + rng.randint(10, 200), max(court_date, _DLAST))
                        steps.append(("R", "REGISTRATION", reg_date, court_county,
                                      ("SO", "SHERIFF", f"CASO{court_county}", f"{court_county} CO SHERIFF"),
                                      None))
            ofn = booking = ""
            levels: list[str] = []  # per count, decided on the arrest step, reused in court
            for si, (tcode, tdescr, sd, s_county, ori, s_outcome) in enumerate(steps, start=1):
                st = ct[:]
                st[_STP_ORDER] = f"{si:03d}"
                st[_STP_TYPE_CODE] = tcode
                st[_STP_TYPE_DESCR] = tdescr
                code, courts = self.courts[s_county]
                if tcode == "C":
                    st[_ORI_TYPE] = "SC"
                    st[_ORI_TYPE_DESCR] = "SUPERIOR COURT"
                    st[_ORI_CODE] = f"CASC{s_county}"
                    st[_ORI_DESCR] = rng.choice(courts)
                else:
                    st[_ORI_TYPE], st[_ORI_TYPE_DESCR], st[_ORI_CODE], st[_ORI_DESCR] = ori
                st[_CNTY_CODE] = code
                step_events: list[str] = list(cyc_events)
                if traps and rng.random() < _P_COUNTY:
                    st[_CNTY_NAME] = self._county_variant(s_county)
                    step_events.append("county_variants")
                else:
                    st[_CNTY_NAME] = s_county
                date_str = _ymd(sd)
                if traps and tcode == "C" and not dob_after and rng.random() < _P_BAD_COURT_DATE:
                    key, date_str = self._bad_date(sd)
                    step_events += [key, key]  # STP_EVENT_DATE and DISP_DATE
                st[_STP_DATE] = date_str
                if tcode in ("D", "R"):
                    row = st[:]
                    row[_CNT_ORDER] = f"{cyc}{si:03d}001000"
                    row[_DISP_DATE] = date_str
                    if tcode == "R":
                        row[_OFF_DESCR] = _REGISTRATION_DESCR
                        row[_OFF_CODE] = "29000"
                        row[_OFN] = f"R{rng.randrange(10**6, 10**7)}"
                    else:
                        row[_OFN] = f"{rng.randrange(10**7, 10**8)}"
                    ev = tuple(pending_person + step_events + (["deceased"] if tcode == "D" else ["registrations"]))
                    pending_person = []
                    if dob_after:
                        dob_pending_rows.append(row)
                    rows.append((row, ev, not (person_trapped or step_events)))
                    continue

                if tcode == "A":
                    yy = f"{date.fromordinal(sd).year % 100:02d}"
                    booking = f"{rng.randrange(10**8, 10**9)}"
                    if s_outcome == "court":
                        levels_f = any(c[5] >= 0.5 for c in charges)
                        ofn = f"{yy}{'F' if levels_f else 'M'}{rng.randrange(10**5):05d}"
                    else:
                        ofn = f"{yy}-{rng.randrange(10**5, 10**6)}"
                court_ofn = ofn
                if traps and tcode == "C" and rng.random() < _P_NULL_OFN:
                    court_ofn = rng.choice(("NULL", "NULL  ", "NULL "))
                    ofn_null = True
                else:
                    ofn_null = False
                dispo_all = None
                if tcode == "A" and s_outcome == "prosrej":
                    dispo_all = rng.choice(("PROS REJ-LACK OF SUFF EVIDENCE", "PROS REJ-INTEREST OF JUSTICE",
                                            "PROS REJ-OTHER", "REL/TOT OTHER JURIS/AUTH"))
                for k, charge in enumerate(charges, start=1):
                    count_key = f"{cyc}{si:03d}{k:03d}000"
                    if tcode == "A":
                        levels.append(self._level(charge, sd))
                    lvl = levels[k - 1]
                    row = st[:]
                    row[_CNT_ORDER] = count_key
                    row[_DISP_DATE] = date_str
                    row[_OFN] = court_ofn
                    row[_FE_ORDER] = "001"
                    descr = _q(_canonical(charge))
                    off_code = _OFFENSE_CODES[charge]
                    row[_OFF_TOC] = lvl
                    row[_CONV_CODE], row[_CONV_DESCR] = _LEVELS[lvl]
                    count_events: list[str] = list(step_events)
                    if ofn_null:
                        count_events.append("null_values")
                    comment = ""
                    conv_descr = ""
                    parts = None
                    if tcode == "A":
                        row[_FE_ARR_AGY] = st[_ORI_CODE]
                        row[_FE_BOOKING] = booking
                        if dispo_all:
                            row[_DISP_ORDER] = "001"
                            row[_DISP_DESCR] = dispo_all
                            row[_DISP_CODE] = _DISP_CODES[dispo_all]
                    else:
                        row[_FE_DOCKET] = row[_FE_CRT_CASE] = "" if ofn_null else ofn
                        convicted = (is_index and k == 1) or charge[4] in _SERIOUS_KINDS \
                            or rng.random() < 0.88
                        row[_DISP_ORDER] = "001"
                        row[_DOFF_CODE] = off_code
                        row[_DOFF_TOC] = lvl
                        if convicted:
                            parts = self._sentence(lvl, charge[4])
                            loc = parts[0][0] if len(parts) == 1 else \
                                "PRISON" if parts[0][0] == "PRISON" else \
                                "JAIL" if parts[0][0] == "JAIL" else "PROBATION"
                            dispo = "CONVICTED-" + loc
                            count_events.append("convictions")
                            if dob_after and first_conv is None:
                                first_conv = sd
                                count_events.append("dob_after_conviction")
                            if len(parts) > 1:
                                count_events.append("multi_part_convictions")
                            cannabis = charge[4] == "cannabis"
                            if cannabis:
                                count_events.append("cannabis_convictions")
                                if s_county == county:
                                    count_events.append("cannabis_convictions_in_county")
                            elif charge[4] == "lookalike":
                                count_events.append("lookalike_sections")
                            elif charge[4].startswith("super"):
                                count_events.append("super_strike_convictions")
                            if traps:
                                r = rng.random()
                                for bound, trap in _CONV_TRAPS:
                                    if r < bound:
                                        # a look-alike is its own trap; any other conviction
                                        # may lose its description or its level
                                        if cannabis or (charge[4] != "lookalike" and trap in (
                                                "comment_only_charges", "blank_conv_level")):
                                            count_events.append(trap)
                                            if trap == "blank_conv_level":
                                                row[_CONV_CODE] = row[_CONV_DESCR] = ""
                                            elif trap == "conv_offense_differs":
                                                plea = _PLEA[charge[0]]
                                                if plea[:2] == charge[:2]:   # 11357(B): convicted as 11357(C)
                                                    plea = _PLEA["11359"]
                                                conv_descr = _q(_canonical(plea))
                                                if plea[5] == 0.0 and lvl == "F":   # pleaded to a misdemeanor
                                                    lvl = "M"
                                                    row[_CONV_CODE], row[_CONV_DESCR] = _LEVELS[lvl]
                                            else:
                                                d_text, comment = self._charge_trap(charge, trap)
                                                descr = _q(d_text)
                                                if trap == "comment_only_charges":
                                                    off_code = ""
                                        break
                            if not comment and rng.random() < 0.04:
                                comment = rng.choice(_NOTES)
                            row[_COFF_ORDER] = "001"
                            row[_COFF_CODE] = off_code
                            row[_COFF_DESCR] = conv_descr or descr
                            row[_COFF_TOC] = lvl
                            if traps and row[_CONV_DESCR] and rng.random() < _P_PAD_LEVEL:
                                row[_CONV_DESCR] = rng.choice((" ", "", "  ")) + row[_CONV_DESCR] + rng.choice(("   ", " ", ""))
                                if row[_CONV_DESCR] == row[_CONV_DESCR].strip():
                                    row[_CONV_DESCR] += " "
                                count_events.append("padded_levels")
                        else:
                            dispo = "DISMISSED/CHARGE DROPPED"
                        row[_DISP_DESCR] = dispo
                        row[_DISP_CODE] = _DISP_CODES[dispo]
                        if traps and rng.random() < _P_LEAD_DISP:
                            row[_DISP_DESCR] = " " * rng.randint(1, 3) + dispo
                            count_events.append("disposition_leading_spaces")
                        row[_DOFF_DESCR] = descr
                    row[_OFF_CODE] = off_code
                    row[_OFF_DESCR] = descr
                    row[_COMMENT] = _q(comment)
                    count_trapped = person_trapped or any(e not in _NEUTRAL for e in count_events)
                    part_rows = []
                    if parts:
                        for pi, (loc, length, unit) in enumerate(parts, start=1):
                            prow = row[:] if pi < len(parts) else row
                            prow[_SENT_ORDER] = f"{pi:03d}"
                            prow[_SENT_LOC_DESCR] = loc
                            prow[_SENT_LOC_CODE] = _SENT[loc]
                            prow[_SENT_LENGTH] = length
                            prow[_SENT_TIME_CODE] = unit
                            prow[_SENT_TIME_DESCR] = _TIME[unit]
                            part_rows.append(prow)
                    else:
                        part_rows.append(row)
                    for pi, prow in enumerate(part_rows):
                        if pi == 0:
                            ev = pending_person + count_events
                            pending_person = []
                        else:
                            # per-row traps repeat on every part; count-level ones do not
                            ev = list(step_events)
                            if ofn_null:
                                ev.append("null_values")
                            if "multi_part_convictions" in count_events:
                                ev.append("second_parts")
                            ev += [e for e in count_events if e in ("padded_levels", "disposition_leading_spaces")]
                        row_trapped = False
                        if traps:
                            r = rng.random()
                            if r < _P_PAD_ROW:
                                for ix in rng.sample(_PAD_IX, rng.randint(1, 2)):
                                    v = prow[ix]
                                    pad = " " * rng.randint(1, 6)
                                    prow[ix] = v[:-1] + pad + '"' if v.endswith('"') else v + pad
                                    ev.append("padded_values")
                                row_trapped = True
                            elif r < _P_PAD_ROW + _P_NULL_ROW:
                                prow[rng.choice(_NULL_IX)] = rng.choice(("NULL", "NULL  ", "NULL    "))
                                ev.append("null_values")
                                row_trapped = True
                        if dob_after:
                            dob_pending_rows.append(prow)
                        plain = not (count_trapped or row_trapped or step_events or ofn_null)
                        rows.append((prow, tuple(ev) if ev else None, plain))
        if dob_after:
            # The DOB typed for this person lands after the first conviction (a typo).
            anchor = first_conv if first_conv is not None else plan[0][0]
            bad = _ymd(anchor + rng.randint(30, 2500))
            for row in dob_pending_rows:
                pad = row[_PRI_DOB]  # may already hold padding spaces from the pad trap
                row[_REQ_DOB] = bad
                row[_PRI_DOB] = bad + pad
        return rows


def _malform(fields: list[str], kind: str, rng: random.Random) -> str:
    """Break one clean row in the way ``kind`` names."""
    fields = list(fields)
    if kind == "malformed_short":
        del fields[_FE_WARRANT]  # an empty field goes missing
    elif kind == "malformed_long":
        name = fields[_PRI_NAME]
        if name.startswith('"') and rng.random() < 0.5:
            fields[_PRI_NAME] = name[1:-1]  # the comma in LAST,FIRST left unquoted
        else:
            fields.insert(_COMMENT, "")
    else:
        # An opening quote that never closes on this line: a whole-file CSV parser would
        # run on into the next line(s); a line-based reader can reject just this one.
        fields[_COMMENT] = '"' + rng.choice(("SEE FILE", "12 PLANTS", "NO CONTACT W/VICTIM"))
    return ",".join(fields)


def write_demo_extract(path: Path, rows: int, county: str, seed: int, *, header: bool = True,
                       traps: bool = True, bom: bool = False,
                       header_trailing_comma: bool = False) -> dict:
    """Write a synthetic DOJ extract of exactly ``rows`` data lines to ``path``.

    Deterministic for a given (rows, county, seed, flags): the same arguments give identical
    bytes. ``county`` is one of the 58 California counties (any case / spacing); most people
    get at least one cannabis conviction there. ``bom`` and ``header_trailing_comma`` add the
    two file-level quirks real files show (off by default). Returns stats; ``injected`` holds
    one counter per key of ``INJECTED_KEYS`` (all zero when ``traps`` is false) and
    ``malformed_line_numbers`` the physical line numbers (header = line 1) of broken lines.
    """
    if not isinstance(rows, int) or rows < 0:
        raise InputError(f"rows must be a whole number of at least 0, not {rows!r}")
    county_norm = " ".join(str(county).split()).upper()
    if county_norm not in CA_COUNTIES:
        raise InputError(f"{county!r} is not a California county name")
    path = Path(path)
    rng = random.Random(seed)
    gen = _Generator(rng, county_norm, traps)
    counters: dict[str, int] = dict.fromkeys(INJECTED_KEYS, 0)
    malformed_lines: list[int] = []
    planted: dict[str, str] = {}
    kinds = ["malformed_short", "malformed_long", "malformed_quote"]
    rng.shuffle(kinds)
    # First broken line early enough that any file of >= 2,000 rows has one, then about
    # one per 5,000 rows; kinds rotate so any three consecutive ones cover all kinds.
    next_bad = rng.randint(100, 1900) if traps else -1
    written = 0
    people = 0
    first_line = 2 if header else 1
    with open(path, "w", encoding="utf-8", newline="") as fh:
        if bom:
            fh.write("\ufeff")
        if header:
            fh.write(",".join(_COLUMNS) + ("," if header_trailing_comma else "") + "\n")
        buf: list[str] = []
        planting = [c for c in _PLANTED if traps or not c[1]]
        while written < rows:
            # one planted case after every other generated person, until all are in the file
            case = planting.pop(0) if planting and people % 2 == 1 else None
            person_rows = gen.planted(case) if case else gen.person()
            people += 1
            if case and written + len(person_rows) <= rows:
                planted[case[0]] = person_rows[0][0][_SUBJECT_ID]
            for pi, (fields, events, plain) in enumerate(person_rows):
                if written >= rows:
                    break
                fields[_RECORD_ID] = str(written + 1)
                # Only a row that counts towards nothing (and is not the person's first, so
                # the person stays visible) is broken: every stat stays checkable on the
                # well-formed lines.
                if written >= next_bad >= 0 and plain and events is None and pi > 0:
                    kind = kinds[len(malformed_lines) % 3]
                    line = _malform(fields, kind, rng)
                    counters[kind] += 1
                    malformed_lines.append(written + first_line)
                    next_bad = written + rng.randint(2500, 7500)
                else:
                    line = ",".join(fields)
                if events:
                    for e in events:
                        counters[e] = counters.get(e, 0) + 1
                buf.append(line)
                written += 1
            if len(buf) >= 8192:
                buf.append("")
                fh.write("\n".join(buf))
                buf.clear()
        if buf:
            buf.append("")
            fh.write("\n".join(buf))
    injected = {k: counters[k] for k in INJECTED_KEYS}
    return {
        "path": str(path),
        "rows": written,
        "lines": written + (1 if header else 0),
        "people": people,
        "bytes": path.stat().st_size,
        "county": county_norm,
        "seed": seed,
        "header": header,
        "traps": traps,
        "convictions": counters.get("convictions", 0),
        "cannabis_convictions": counters.get("cannabis_convictions", 0),
        "cannabis_convictions_in_county": counters.get("cannabis_convictions_in_county", 0),
        "multi_part_convictions": counters.get("second_parts", 0),
        "super_strike_convictions": counters.get("super_strike_convictions", 0),
        "registrations": counters.get("registrations", 0),
        "deceased": counters.get("deceased", 0),
        "malformed_lines": len(malformed_lines),
        "malformed_line_numbers": malformed_lines,
        "injected": injected,
        # planted case id -> SUBJECT_ID, for the cases whose rows all fit in the file
        "planted": planted,
    }
