"""The column mapping of a county case-management file: which column holds each field.

A mapping names the file's column for each field (``FIELDS``) plus a few options; it is saved as
TOML beside the office's files and remembered by the workspace for files of the same shape.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field

from ..errors import InputError
from ..safety import local_path

FIELDS = ("subject_id", "name", "dob", "cii_number", "court_case_number", "courthouse", "county",
          "conviction_date", "code_section", "level", "disposition", "sentence", "race", "gender")
REQUIRED = ("court_case_number", "conviction_date", "code_section")
LABELS = {
    "subject_id": "Person / subject id", "name": "Name", "dob": "Date of birth", "cii_number": "CII number",
    "court_case_number": "Court case number", "courthouse": "Courthouse", "county": "County",
    "conviction_date": "Conviction date", "code_section": "Charge (code section)", "level": "Level (F/M/I)",
    "disposition": "Disposition", "sentence": "Sentence", "race": "Race", "gender": "Gender",
}
OPTIONS = ("date_format", "county", "sheet", "header_row", "convicted", "not_convicted", "delimiter")
DEFAULT_CONVICTED = ("CONVICTED", "CONVICTION", "GUILTY", "PLED GUILTY", "PLEA", "NOLO")
# A disposition containing one of these is never a conviction, whatever it starts with:
# "PLEA OF NOT GUILTY" starts with PLEA, "CONVICTION VACATED" with CONVICTION.
DEFAULT_NOT_CONVICTED = ("NOT GUILTY", "ACQUIT", "VACATED", "REVERSED", "WITHDRAWN")

# --- the mapping -------------------------------------------------------------------------------

@dataclass
class Mapping:
    columns: dict[str, str]                     # field -> the file's column header
    options: dict = field(default_factory=dict)  # date_format, county, sheet, header_row, convicted, ...

    def to_dict(self) -> dict:
        return {"columns": dict(self.columns), "options": dict(self.options)}


def mapping_fields() -> list[tuple[str, str, bool]]:
    """(field id, label, required) for the GUI's mapping step."""
    return [(f, LABELS[f], f in REQUIRED) for f in FIELDS]


def load_mapping(source) -> Mapping:
    """A mapping from a TOML file ([columns], [options]), a dict of that shape, a flat dict
    {field: column} (what the GUI's mapping dialog returns), or a Mapping."""
    if isinstance(source, Mapping):
        return _parse_mapping(source.to_dict(), "the column mapping")
    if isinstance(source, dict):
        return _parse_mapping(source, "the column mapping")
    path = local_path(source, what="mapping file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: the mapping file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path.name}: not a valid mapping file ({exc})") from None
    return _parse_mapping(data, path.name)


def _parse_mapping(data: dict, where: str) -> Mapping:
    if "columns" in data and isinstance(data["columns"], dict):
        columns, options = data["columns"], data.get("options", {}) or {}
        extra = [k for k in data if k not in ("columns", "options")]
        if extra:
            raise InputError(f"{where}: unknown section(s) {', '.join(map(str, extra))}; a mapping has [columns] and [options]")
    else:  # flat {field: column}, optionally with "options"
        columns = {k: v for k, v in data.items() if k != "options"}
        options = data.get("options", {}) or {}
    unknown = [k for k in columns if k not in FIELDS]
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}; "
                         f"the fields are {', '.join(FIELDS)}")
    cols = {}
    for f in FIELDS:  # field order, blank entries meaning "not in this file"
        v = columns.get(f)
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        if not isinstance(v, str):
            raise InputError(f"{where}: the column for {f} must be a column name in quotes")
        cols[f] = v.strip()
    if not isinstance(options, dict):
        raise InputError(f"{where}: [options] must be a table")
    return Mapping(cols, _check_options(options, where))


def _check_options(options: dict, where: str) -> dict:
    unknown = [k for k in options if k not in OPTIONS]
    if unknown:
        raise InputError(f"{where}: unknown option(s) {', '.join(map(str, unknown))}; the options are {', '.join(OPTIONS)}")
    out: dict = {}
    for k, v in options.items():
        if v is None or v == "":
            continue
        bad = f"{where}: option {k} "
        if k in ("date_format", "county"):
            if not isinstance(v, str):
                raise InputError(bad + "must be text")
            if k == "date_format" and "%" not in _strptime_format(v):
                raise InputError(bad + "must be like MM/DD/YYYY or %m/%d/%Y")
        elif k == "sheet":
            if isinstance(v, bool) or not isinstance(v, (str, int)) or (isinstance(v, int) and v < 1):
                raise InputError(bad + "must be a sheet name or a sheet number (1 = the first)")
        elif k == "header_row":
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(bad + "must be a row number (1 = the first row)")
        elif k in ("convicted", "not_convicted"):
            if isinstance(v, str):
                v = [v]
            if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
                raise InputError(bad + "must be a list of texts")
            if k == "convicted" and not v:
                raise InputError(bad + "must name at least one disposition")
            v = [x.strip() for x in v]
        elif k == "delimiter":
            v = "\t" if isinstance(v, str) and v.lower() in ("tab", "\\t") else v
            if not isinstance(v, str) or len(v) != 1 or v in ('"', "\r", "\n"):
                raise InputError(bad + "must be one character (or \"tab\")")
        out[k] = v
    return out


def save_mapping(mapping, path) -> None:
    """Write the mapping as TOML, readable by ``load_mapping``."""
    m = load_mapping(mapping)
    path = local_path(path, must_exist=False, what="mapping file")
    lines = ["# ClearRec column mapping: file column for each field, then import options", "", "[columns]"]
    lines += [f"{f} = {_toml_value(c)}" for f, c in m.columns.items()]
    if m.options:
        lines += ["", "[options]"]
        lines += [f"{k} = {_toml_value(m.options[k])}" for k in OPTIONS if k in m.options]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    # a JSON string is a TOML basic string, except that TOML wants DEL escaped too
    return json.dumps(str(v), ensure_ascii=False).replace("\x7f", "\\u007f")


# --- guessing a mapping from the headers -------------------------------------------------------

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "subject_id": ("subject id", "subject", "person id", "person number", "defendant id", "party id", "def id",
                   "master id", "individual id"),
    "name": ("name", "defendant name", "defendant", "full name", "party name", "def name", "person name"),
    "dob": ("dob", "birth date", "date of birth", "birthdate", "dob date"),
    "cii_number": ("cii", "cii number", "cii no", "cii num", "cii nbr", "state id"),
    "court_case_number": ("case number", "case no", "case nbr", "case num", "court case number", "court case",
                          "court number", "court no", "docket", "docket number", "case", "case id"),
    "courthouse": ("courthouse", "court", "court name", "court location", "branch", "location"),
    "county": ("county", "county name"),
    "conviction_date": ("conviction date", "conv date", "date convicted", "disposition date", "dispo date",
                        "disp date", "judgment date", "sentence date", "sentencing date"),
    "code_section": ("charge", "statute", "code section", "section", "charge code", "offense code", "offence code",
                     "violation", "conviction charge", "offense", "offence", "charge statute", "code"),
    "level": ("level", "charge level", "offense level", "degree", "class", "severity", "f m", "fmi", "charge class"),
    "disposition": ("disposition", "dispo", "disp", "finding", "outcome", "result", "charge disposition"),
    "sentence": ("sentence", "sentence text", "sentencing", "sentence description"),
    "race": ("race", "ethnicity", "race ethnicity"),
    "gender": ("gender", "sex"),
}
_DATE_FIELDS = ("dob", "conviction_date")


def _words(text: str) -> str:
    words = re.sub(r"[^a-z0-9]+", " ", text.lower().replace("#", " number ")).split()
    return " ".join("date" if w == "dt" else w for w in words)


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """Best-effort {field: header} from header names; each header and field used at most once."""
    scored = []
    for hi, header in enumerate(headers):
        words = _words(header or "")
        if not words:
            continue
        tokens = set(words.split())
        for fi, (f, synonyms) in enumerate(_SYNONYMS.items()):
            # a date column only ever fills a date field, and the other way round
            is_date = bool(tokens & {"date", "dob", "birthdate"})
            if is_date != (f in _DATE_FIELDS):
                continue
            for rank, syn in enumerate(synonyms):
                if words == syn:
                    score = 3
                elif set(syn.split()) <= tokens:
                    score = 2 if len(syn.split()) > 1 else 1
                else:
                    continue
                scored.append((-score, rank, fi, hi, f, header))
                break
    out: dict[str, str] = {}
    used: set[int] = set()
    for _, _, _, hi, f, header in sorted(scored):
        if f not in out and hi not in used:
            out[f] = header
            used.add(hi)
    return {f: out[f] for f in FIELDS if f in out}

def check_mapping(mapping: Mapping, file_name: str) -> None:
    """Required fields, a way to tell people apart, and a county."""
    missing = [f for f in REQUIRED if f not in mapping.columns]
    if missing:
        raise InputError(f"{file_name}: the column mapping has no column for the required field(s) "
                         f"{', '.join(missing)}")
    c = mapping.columns
    if not ("subject_id" in c or "cii_number" in c or ("name" in c and "dob" in c)):
        raise InputError(f"{file_name}: the column mapping needs a way to tell people apart: "
                         "a subject_id column, a cii_number column, or both name and dob")
    if "county" not in c and not (mapping.options.get("county") or "").strip():
        raise InputError(f"{file_name}: the column mapping has no county column; map one or set options.county")


def _strptime_format(fmt: str) -> str:
    """``MM/DD/YYYY`` style (or a strptime format as is) -> strptime format."""
    if "%" in fmt:
        return fmt
    out = fmt
    for token, directive in (("YYYY", "%Y"), ("YY", "%y"), ("MM", "%m"), ("DD", "%d"), ("M", "%m"), ("D", "%d")):
        out = out.replace(token, directive)
    return out
