"""Hand-worked DOJ extract rows for tests: a person, their cycles and counts, written as CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from clearrec_desktop.core.ingest.doj import DOJ_COLUMNS

SEPARATORS = ("REQ_SEG_SEP", "PII_SEG_SEP", "PDR_SEG_SEP", "CYC_SEG_SEP", "STP_SEG_SEP", "CNT_SEG_SEP",
              "SENT_SEG_SEP", "END_OF_REC")


class Person:
    """Builds the rows of one person's record; each call adds a cycle."""

    def __init__(self, subject_id: str, name: str = "TESTER,PAT", dob: str = "19600101", gender: str = "M",
                 race: str = "WHITE", cii: str | None = None):
        self.base = {"RECORD_ID": "x", "SUBJECT_STATUS": "x", "SUBJECT_ID": subject_id, "CII_NUMBER": cii or f"A{subject_id}",
                     "PRI_NAME": name, "GENDER": gender, "PRI_DOB": dob, "RACE_DESCR": race, "PRI_SSN": "900-00-0000"}
        self.rows: list[dict] = []
        self.cycle = 0

    def _row(self, **kw) -> dict:
        r = {c: "" for c in DOJ_COLUMNS}
        for s in SEPARATORS:
            r[s] = "#"
        r.update(self.base)
        r.update(kw)
        return r

    def conviction(self, date: str, descr: str, *, level: str = "FELONY", toc: str | None = None,
                   county: str = "SACRAMENTO", ofn: str | None = None, counts: int = 1,
                   sentences=(("JAIL", "90", "D"),), disp: str = "CONVICTED-JAIL", comment: str = "",
                   arrest_date: str | None = None, conv_descr: str = "") -> "Person":
        """An arrest step and a court step with ``counts`` counts of the same charge."""
        self.cycle += 1
        cyc = f"{self.cycle:03d}"
        toc = toc or (level[:1] if level else "")
        ofn = ofn or f"{self.base['SUBJECT_ID']}-{cyc}"
        arrest = arrest_date or date
        common = dict(CYC_ORDER=cyc, CYC_DATE=arrest, STP_ORI_CNTY_NAME=county, OFN=ofn, OFFENSE_DESCR=descr,
                      OFFENSE_TOC=toc, CONV_STAT_DESCR=level)
        for n in range(1, counts + 1):
            self.rows.append(self._row(**common, STP_ORDER="001", STP_EVENT_DATE=arrest, STP_TYPE_DESCR="ARREST/DETAINED/CITED",
                                       STP_ORI_CODE=f"CAPD{county}", CNT_ORDER=f"{cyc}001{n:03d}000", DISP_DATE=arrest))
        for n in range(1, counts + 1):
            for loc, length, unit in sentences or ((None, None, None),):
                self.rows.append(self._row(
                    **common, STP_ORDER="002", STP_EVENT_DATE=date, STP_TYPE_DESCR="COURT ACTION",
                    STP_ORI_CODE=f"CASC{county}", STP_ORI_DESCR=f"{county} SUPERIOR COURT", CNT_ORDER=f"{cyc}002{n:03d}000",
                    DISP_DATE=date, DISP_DESCR=disp, SENT_LOC_DESCR=loc or "", SENT_LENGTH=length or "",
                    SENT_TIME_CODE=unit or "", COMMENT_TEXT=comment, CONV_OFFENSE_DESCR=conv_descr))
        return self

    def dismissed(self, date: str, descr: str, county: str = "SACRAMENTO") -> "Person":
        return self.conviction(date, descr, county=county, disp="DISMISSED/CHARGE DROPPED", sentences=None)

    def step(self, date: str, step_type: str, descr: str = "", county: str = "SACRAMENTO") -> "Person":
        self.cycle += 1
        cyc = f"{self.cycle:03d}"
        self.rows.append(self._row(CYC_ORDER=cyc, CYC_DATE=date, STP_ORDER="001", STP_EVENT_DATE=date,
                                   STP_TYPE_DESCR=step_type, STP_ORI_CNTY_NAME=county, CNT_ORDER=f"{cyc}001001000",
                                   OFFENSE_DESCR=descr))
        return self


def extract_text(rows: list[dict], *, header: bool = True) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if header:
        w.writerow(DOJ_COLUMNS)
    for r in rows:
        w.writerow([r[c] for c in DOJ_COLUMNS])
    return buf.getvalue()


def write_extract(path: Path, *people_or_rows, header: bool = True) -> Path:
    rows = []
    for p in people_or_rows:
        rows.extend(p.rows if isinstance(p, Person) else p)
    path.write_text(extract_text(rows, header=header), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """Physical line number (1-based) of the first line containing ``needle``."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")
