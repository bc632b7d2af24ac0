"""After filing: filings, the court's rulings, notices to DOJ, each conviction's status, lookups.

A mixin of ``Workspace`` (like decisions.py). Its tables are created the first time they are
written, so an older workspace opens unchanged and simply has no filings. Every table is
append-only (triggers refuse UPDATE and DELETE): a filing is withdrawn or amended by a new row,
a ruling is superseded by a later ruling, nothing is ever overwritten. Each change is one
transaction holding its rows and one entry of the hash-chained audit trail; the trail names
convictions and people only by opaque reference (``ref``), never by name, date of birth, CII or
case number, and free text (reasons, notes) stays in the tables.

Conviction ids are ``subject_id/court_case_number/count_key`` (screen/screening.py): DOJ's
subject id, the court's case number and the count. A newer DOJ extract of the same county gives
the same ids, so filings and rulings stay attached to the same convictions after a re-import.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import InputError
from ..safety import local_path

RULINGS = ("granted", "granted_differently", "denied", "continued")
FINAL_RULINGS = ("granted", "granted_differently", "denied")
GRANTED = ("granted", "granted_differently")
STATUSES = ("screened", "decided", "filed", "ruled", "reported_to_doj")
STATUS_LABELS = {
    "screened": "Screened",
    "decided": "Decided",
    "filed": "Filed, waiting for the court",
    "ruled": "Ruled by the court",
    "reported_to_doj": "Court reported it to DOJ",
}
RULING_LABELS = {
    "granted": "granted as asked",
    "granted_differently": "granted differently from what was asked",
    "denied": "denied",
    "continued": "continued (the court has not decided yet)",
}
# What a returned ruling column may say, after lower-casing and collapsing punctuation to spaces.
_RULING_WORDS = {
    "granted": "granted", "grant": "granted", "granted as asked": "granted", "granted as requested": "granted",
    "g": "granted", "yes": "granted", "approved": "granted",
    "granted differently": "granted_differently", "granted_differently": "granted_differently",
    "granted in part": "granted_differently", "modified": "granted_differently", "gd": "granted_differently",
    "denied": "denied", "deny": "denied", "d": "denied", "no": "denied",
    "continued": "continued", "continue": "continued", "c": "continued", "cont": "continued",
}
LOOKUP_FIELDS = ("name", "dob", "cii", "case")
DEFAULT_WAIT_DAYS = 90
DEFAULT_DOJ_GRACE_DAYS = 180   # AB 1706 gave DOJ four months after the courts' deadline; a little more

_TABLES = """
CREATE TABLE IF NOT EXISTS filings (
    filing_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    posture TEXT NOT NULL,
    court TEXT NOT NULL,
    courthouse TEXT,
    filed_on TEXT NOT NULL,
    amends INTEGER REFERENCES filings(filing_id),
    files_json TEXT NOT NULL,
    audit_head_printed TEXT,
    note TEXT,
    audit_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS filing_convictions (
    filing_id INTEGER NOT NULL REFERENCES filings(filing_id),
    conviction_id TEXT NOT NULL,
    court_case_number TEXT,
    count_no TEXT,
    exhibit TEXT,
    action TEXT,
    code_section TEXT,
    level TEXT,
    PRIMARY KEY (filing_id, conviction_id)
);
CREATE INDEX IF NOT EXISTS filing_convictions_by_conviction ON filing_convictions (conviction_id, filing_id);
CREATE TABLE IF NOT EXISTS filing_withdrawals (
    withdrawal_id INTEGER PRIMARY KEY AUTOINCREMENT,
    filing_id INTEGER NOT NULL REFERENCES filings(filing_id),
    at TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    withdrawn_on TEXT NOT NULL,
    reason TEXT NOT NULL,
    audit_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rulings (
    ruling_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    filing_id INTEGER NOT NULL REFERENCES filings(filing_id),
    conviction_id TEXT NOT NULL,
    ruling TEXT NOT NULL CHECK (ruling IN ('granted', 'granted_differently', 'denied', 'continued')),
    order_date TEXT NOT NULL,
    source TEXT NOT NULL,
    note TEXT,
    audit_seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS rulings_by_conviction ON rulings (conviction_id, ruling_id);
CREATE TABLE IF NOT EXISTS doj_notices (
    notice_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    conviction_id TEXT NOT NULL,
    reported_on TEXT NOT NULL,
    audit_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lookups (
    lookup_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    fields TEXT NOT NULL,
    reason TEXT NOT NULL,
    matches INTEGER NOT NULL,
    audit_seq INTEGER NOT NULL
);
""" + "".join(
    f"CREATE TRIGGER IF NOT EXISTS {t}_no_update BEFORE UPDATE ON {t}\n"
    f"BEGIN SELECT RAISE(ABORT, 'the filing record is append-only'); END;\n"
    f"CREATE TRIGGER IF NOT EXISTS {t}_no_delete BEFORE DELETE ON {t}\n"
    f"BEGIN SELECT RAISE(ABORT, 'the filing record is append-only'); END;\n"
    for t in ("filings", "filing_convictions", "filing_withdrawals", "rulings", "doj_notices", "lookups"))
TABLES = ("filings", "filing_convictions", "filing_withdrawals", "rulings", "doj_notices", "lookups")
AUDIT_ACTIONS = frozenset({"filing_recorded", "filing_withdrawn", "ruling", "rulings_imported", "doj_reported",
                           "lookup", "status_letter"})

_FILING_CONVICTION_COLUMNS = ("conviction_id", "court_case_number", "count_no", "exhibit", "action",
                              "code_section", "level")


def _statements() -> list[str]:
    out, buf = [], []
    for line in _TABLES.splitlines():
        buf.append(line)
        text = "\n".join(buf).strip()
        if text.endswith(";") and (not text.startswith("CREATE TRIGGER") or text.endswith("END;")):
            out.append(text)
            buf = []
    return out


_STATEMENTS = _statements()


def _ensure_tables(conn) -> None:
    for stmt in _STATEMENTS:
        conn.execute(stmt)


def _has_tables(conn) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'filings'").fetchone() is not None


def _iso(value: Any, what: str) -> str:
    """A date given as a date, datetime or text (YYYY-MM-DD or MM/DD/YYYY) as ISO text."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise InputError(f"{what}: {text!r} is not a date (use YYYY-MM-DD or MM/DD/YYYY)" if text else f"{what} is needed")


def file_digests(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Name, SHA-256 and size of each file, as a filing records them."""
    out = []
    for p in paths:
        path = Path(p)
        h = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        except OSError as exc:
            raise InputError(f"{path.name}: cannot be read ({exc.strerror or type(exc).__name__})") from None
        out.append({"name": path.name, "sha256": h.hexdigest(), "bytes": path.stat().st_size})
    return out


def rows_from_update(update: pl.DataFrame) -> pl.DataFrame:
    """The convictions of a filing from its court update rows (core/outputs/court_update.py)."""
    if "conviction_id" not in update.columns:
        raise InputError("the court update rows have no conviction_id column")
    frame = update.select(
        pl.col("conviction_id").cast(pl.String),
        *[(pl.col(src).cast(pl.String) if src in update.columns else pl.lit(None, pl.String)).alias(dst)
          for src, dst in (("court_case_number", "court_case_number"), ("count", "count_no"), ("exhibit", "exhibit"),
                           ("action", "action"), ("code_section", "code_section"), ("level", "level"))])
    return frame.filter(pl.col("conviction_id").is_not_null() & (pl.col("conviction_id") != "")) \
        .unique("conviction_id", keep="first", maintain_order=True)


def _norm_name(text: Any) -> str:
    """Upper case, accents and punctuation gone, words sorted: "Álvarez, Maria L." -> "ALVAREZ L MARIA"."""
    s = unicodedata.normalize("NFKD", str(text or ""))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).upper()
    words = re.sub(r"[^A-Z0-9 ]+", " ", s).split()
    return " ".join(sorted(words))


def _norm_key(text: Any) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(text or "").upper())


class PersonIndex:
    """The people of one screening run, ready for lookups (name, date of birth, CII, case).

    Built once per run (a few seconds for a million people) and kept by the workspace; a name
    lookup is one rapidfuzz pass over the normalised names (C++, all cores)."""

    def __init__(self, results: pl.DataFrame, run_id: int | None = None) -> None:
        self.run_id = run_id
        cols = [c for c in ("conviction_id", "subject_id", "name", "dob", "cii_number", "court_case_number",
                            "courthouse", "conviction_date", "code_section", "level", "outcome") if c in results.columns]
        convictions = results.select(cols)
        self.convictions = convictions.drop("name", "dob", "cii_number", strict=False)
        people = convictions.group_by("subject_id", maintain_order=True).agg(
            pl.col("name").first(), pl.col("dob").first().cast(pl.String),
            pl.col("cii_number").first().cast(pl.String))
        self.people = people
        self.subjects: list[str] = people.get_column("subject_id").to_list()
        self.names: list[str] = [_norm_name(n) for n in people.get_column("name").to_list()]
        self._dob = people.get_column("dob").to_list()
        self._cii = [_norm_key(c) for c in people.get_column("cii_number").to_list()]
        self._cases = convictions.select(
            pl.col("court_case_number").map_elements(_norm_key, return_dtype=pl.String).alias("case"),
            "subject_id").unique() if "court_case_number" in convictions.columns else None

    def __len__(self) -> int:
        return len(self.subjects)

    def find(self, *, name: str | None = None, dob: str | date | None = None, cii: str | None = None,
             case: str | None = None, limit: int = 20, cutoff: float = 82.0) -> list[dict[str, Any]]:
        """Matching people, best first: ``{"subject_id", "name", "dob", "score"}``. Every given
        field must match (name by similarity, the others exactly, ignoring punctuation)."""
        from rapidfuzz import fuzz, process

        allowed: set[int] | None = None

        def narrow(ids: Iterable[int]) -> None:
            nonlocal allowed
            ids = set(ids)
            allowed = ids if allowed is None else allowed & ids

        if dob:
            wanted = _iso(dob, "date of birth")
            narrow(i for i, d in enumerate(self._dob) if d == wanted)
        if cii:
            key = _norm_key(cii)
            narrow(i for i, c in enumerate(self._cii) if c == key)
        if case:
            key = _norm_key(case)
            subjects = set() if self._cases is None else set(
                self._cases.filter(pl.col("case") == key).get_column("subject_id").to_list())
            narrow(i for i, s in enumerate(self.subjects) if s in subjects)
        scores: dict[int, float] = {}
        if name and _norm_name(name):
            query = _norm_name(name)
            if allowed is None:
                hits = process.extract(query, self.names, scorer=fuzz.ratio, processor=None,
                                       score_cutoff=cutoff, limit=limit)
                scores = {i: s for _, s, i in hits}
            else:
                for i in allowed:
                    s = fuzz.ratio(query, self.names[i], score_cutoff=cutoff)
                    if s:
                        scores[i] = s
            allowed = set(scores)
        elif allowed is None:
            return []
        ordered = sorted(allowed, key=lambda i: (-scores.get(i, 100.0), self.names[i]))[:limit]
        return [{"subject_id": self.subjects[i], "name": self.people.item(i, "name"), "dob": self._dob[i],
                 "score": round(scores.get(i, 100.0), 1)} for i in ordered]


@dataclass
class RulingImport:
    """What importing a returned ruling file did: rulings recorded, rows that matched nothing
    (each with its line and why; never dropped silently) and rows without a ruling."""

    source: str
    rows: int = 0
    recorded: int = 0
    by_ruling: dict[str, int] = field(default_factory=dict)
    unmatched: list[dict[str, Any]] = field(default_factory=list)   # {"line", "case", "count", "reason"}
    no_ruling: int = 0

    def lines(self) -> list[str]:
        out = [f"{self.source}: {self.rows:,} row(s) read; {self.recorded:,} ruling(s) recorded"
               + (" (" + ", ".join(f"{k}: {v:,}" for k, v in self.by_ruling.items()) + ")" if self.by_ruling else "")]
        if self.no_ruling:
            out.append(f"{self.no_ruling:,} row(s) have no ruling yet and were left as they are")
        if self.unmatched:
            out.append(f"{len(self.unmatched):,} row(s) match no filed conviction:")
            out += [f"  line {u['line']}: {u['case'] or '(no case number)'} count {u['count'] or '-'}: {u['reason']}"
                    for u in self.unmatched]
        return out


def _read_table(path: Path) -> pl.DataFrame:
    """A CSV (UTF-8, byte-order mark allowed) or XLSX as text columns, with its line numbers."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                sheet = wb.worksheets[0]
                rows = sheet.iter_rows(values_only=True)
                header = [str(h or "").strip() for h in next(rows, [])]
                data: list[list[Any]] = []
                for row in rows:
                    data.append([None if v is None else (v.date().isoformat() if isinstance(v, datetime) else str(v))
                                 for v in row[:len(header)]] + [None] * max(0, len(header) - len(row)))
            finally:
                wb.close()
            frame = pl.DataFrame(data, schema={h or f"column_{i}": pl.String for i, h in enumerate(header)},
                                 orient="row")
        else:
            raw = path.read_bytes()
            text = raw.decode("utf-8-sig")
            frame = pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=False)
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: is not UTF-8 text; save it as CSV UTF-8 or as .xlsx") from None
    except (OSError, pl.exceptions.PolarsError, ValueError, StopIteration, KeyError, IndexError) as exc:
        raise InputError(f"{path.name}: cannot be read as a ruling file ({type(exc).__name__})") from None
    frame = frame.rename({c: c.strip().lower().replace(" ", "_") for c in frame.columns})
    # values the court update CSV protected from spreadsheets with a leading apostrophe
    frame = frame.with_columns(pl.col(c).str.strip_chars().str.replace(r"^'([=+\-@\t\r])", "$1") for c in frame.columns)
    return frame.with_row_index("line", offset=2)


class FilingLog:
    """Filings, rulings, notices to DOJ, statuses and lookups (a Workspace mixin)."""

    # ----------------------------------------------------------------- filings

    def record_filing(self, *, posture: str, court: str, filed_on: date | str, convictions: pl.DataFrame,
                      files: Sequence[Mapping[str, Any]] = (), audit_head_printed: str | None = None,
                      courthouse: str | None = None, amends: int | None = None, note: str | None = None) -> int:
        """Record that a packet was filed. ``convictions``: at least ``conviction_id`` (see
        ``rows_from_update`` for the court update rows); ``files``: ``{"name", "sha256", "bytes"}``
        of each file filed. ``amends``: the filing this one replaces (it stays recorded)."""
        posture = str(posture or "").strip()
        court = str(court or "").strip()
        if not posture:
            raise InputError("a filing needs its posture (e.g. response, supplemental, petition)")
        if not court:
            raise InputError("a filing needs the court it was filed in")
        filed = _iso(filed_on, "the date filed")
        if "conviction_id" not in convictions.columns or convictions.height == 0:
            raise InputError("a filing needs the convictions it asks about")
        frame = convictions.select(
            *[(pl.col(c).cast(pl.String) if c in convictions.columns else pl.lit(None, pl.String)).alias(c)
              for c in _FILING_CONVICTION_COLUMNS]).unique("conviction_id", keep="first", maintain_order=True)
        clean_files = []
        for f in files:
            sha = str(f.get("sha256", "")).lower()
            if not re.fullmatch(r"[0-9a-f]{64}", sha):
                raise InputError(f"{f.get('name', '?')}: a filed file needs its SHA-256 (64 hex digits)")
            clean_files.append({"name": Path(str(f["name"])).name, "sha256": sha, "bytes": int(f.get("bytes") or 0)})
        if audit_head_printed is not None and not re.fullmatch(r"[0-9a-f]{64}", str(audit_head_printed)):
            raise InputError("the audit head printed on the documents must be 64 hex digits")
        note = note.strip() if isinstance(note, str) and note.strip() else None
        with self._lock:
            with self._write() as conn:
                _ensure_tables(conn)
                if amends is not None:
                    self._require_active(conn, int(amends))
                at = self._now()
                seq = self._append_audit("filing_recorded", {
                    "posture": posture, "filed_on": filed, "amends": amends, "courthouse_given": courthouse is not None,
                    "files": [{"name": f["name"], "sha256": f["sha256"]} for f in clean_files],
                    "audit_head_printed": audit_head_printed, "count": frame.height,
                    "convictions": [self.ref(c) for c in frame.get_column("conviction_id").to_list()],
                }, at=at)
                filing_id = conn.execute(
                    "INSERT INTO filings (at, reviewer, posture, court, courthouse, filed_on, amends, files_json, "
                    "audit_head_printed, note, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (at, self.reviewer(), posture, court, courthouse or None, filed, amends,
                     json.dumps(clean_files), audit_head_printed, note, seq)).lastrowid
                conn.executemany(
                    f"INSERT INTO filing_convictions (filing_id, {', '.join(_FILING_CONVICTION_COLUMNS)}) "
                    f"VALUES (?, {', '.join('?' * len(_FILING_CONVICTION_COLUMNS))})",
                    ((filing_id, *row) for row in frame.iter_rows()))
        return filing_id

    def withdraw_filing(self, filing_id: int, *, reason: str, withdrawn_on: date | str | None = None) -> int:
        """Withdraw a filing (it stays recorded, marked withdrawn). A filing the court has
        already decided cannot be withdrawn."""
        if not isinstance(reason, str) or not reason.strip():
            raise InputError("say why the filing is withdrawn")
        on = _iso(withdrawn_on or date.fromisoformat(self._now()[:10]), "the date withdrawn")
        with self._lock:
            with self._write() as conn:
                _ensure_tables(conn)
                self._require_active(conn, filing_id)
                decided = conn.execute(
                    "SELECT COUNT(*) FROM rulings WHERE filing_id = ? AND ruling != 'continued'", (filing_id,)).fetchone()[0]
                if decided:
                    raise InputError(f"filing {filing_id}: the court has already ruled on {decided:,} of its "
                                     "convictions; it cannot be withdrawn (record an amended filing instead)")
                at = self._now()
                seq = self._append_audit("filing_withdrawn", {"filing_id": filing_id, "withdrawn_on": on,
                                                              "has_reason": True}, at=at)
                return conn.execute(
                    "INSERT INTO filing_withdrawals (filing_id, at, reviewer, withdrawn_on, reason, audit_seq) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (filing_id, at, self.reviewer(), on, reason.strip(), seq)).lastrowid

    def _require_active(self, conn, filing_id: int) -> None:
        if conn.execute("SELECT 1 FROM filings WHERE filing_id = ?", (filing_id,)).fetchone() is None:
            raise InputError(f"there is no filing {filing_id} in this workspace")
        if conn.execute("SELECT 1 FROM filing_withdrawals WHERE filing_id = ?", (filing_id,)).fetchone():
            raise InputError(f"filing {filing_id} was withdrawn")
        later = conn.execute("SELECT filing_id FROM filings WHERE amends = ?", (filing_id,)).fetchone()
        if later:
            raise InputError(f"filing {filing_id} was amended by filing {later[0]}; use that one")

    def filings(self) -> list[dict[str, Any]]:
        """Every filing, oldest first, with its state (active, withdrawn, amended) and counts."""
        with self._lock:
            conn = self._db()
            if not _has_tables(conn):
                return []
            withdrawn = dict(conn.execute("SELECT filing_id, withdrawn_on FROM filing_withdrawals"))
            amended = dict(conn.execute("SELECT amends, filing_id FROM filings WHERE amends IS NOT NULL"))
            counts = dict(conn.execute("SELECT filing_id, COUNT(*) FROM filing_convictions GROUP BY filing_id"))
            ruled = dict(conn.execute(
                "SELECT filing_id, COUNT(DISTINCT conviction_id) FROM rulings WHERE ruling != 'continued' "
                "GROUP BY filing_id"))
            cols = ("filing_id", "at", "reviewer", "posture", "court", "courthouse", "filed_on", "amends", "files_json",
                    "audit_head_printed", "note")
            out = []
            for row in conn.execute(f"SELECT {', '.join(cols)} FROM filings ORDER BY filing_id"):
                d = dict(zip(cols, row))
                d["files"] = json.loads(d.pop("files_json"))
                fid = d["filing_id"]
                d["state"] = "withdrawn" if fid in withdrawn else ("amended" if fid in amended else "active")
                d["withdrawn_on"] = withdrawn.get(fid)
                d["amended_by"] = amended.get(fid)
                d["convictions"] = counts.get(fid, 0)
                d["ruled"] = ruled.get(fid, 0)
                out.append(d)
            return out

    def filing_convictions(self, filing_id: int | None = None, *, ids: Sequence[str] | None = None) -> pl.DataFrame:
        """The convictions of one filing (or of every filing; or only these conviction ids)."""
        schema = {"filing_id": pl.Int64, **{c: pl.String for c in _FILING_CONVICTION_COLUMNS}}
        with self._lock:
            conn = self._db()
            if not _has_tables(conn):
                return pl.DataFrame(schema=schema)
            sql = f"SELECT filing_id, {', '.join(_FILING_CONVICTION_COLUMNS)} FROM filing_convictions"
            if ids is not None:
                rows = _select_in(conn, sql, "conviction_id", ids)
            else:
                rows = conn.execute(sql + (" WHERE filing_id = ?" if filing_id is not None else ""),
                                    (filing_id,) if filing_id is not None else ()).fetchall()
        return pl.DataFrame(rows, schema=schema, orient="row")

    def _active_filed(self, ids: Sequence[str] | None = None) -> pl.DataFrame:
        """Convictions of active filings (not withdrawn, not amended): the latest filing per conviction."""
        active = {f["filing_id"]: f for f in self.filings() if f["state"] == "active"}
        frame = self.filing_convictions(ids=ids)
        if not active:
            return frame.head(0).with_columns(pl.lit(None, pl.String).alias("filed_on"))
        filed_on = pl.DataFrame({"filing_id": list(active), "filed_on": [f["filed_on"] for f in active.values()]},
                                schema={"filing_id": pl.Int64, "filed_on": pl.String})
        return (frame.join(filed_on, on="filing_id", how="inner").sort("filing_id")
                .unique("conviction_id", keep="last", maintain_order=True))

    # ----------------------------------------------------------------- rulings

    def record_ruling(self, filing_id: int, ruling: str, order_date: date | str, *,
                      conviction_ids: Sequence[str] | None = None, case_number: str | None = None,
                      note: str | None = None) -> list[int]:
        """The court's ruling on a whole filing, one court case of it (``case_number``) or some
        of its convictions. A later ruling supersedes an earlier one (both stay recorded)."""
        if ruling not in RULINGS:
            raise InputError(f"unknown ruling {ruling!r}; expected one of {', '.join(RULINGS)}")
        when = _iso(order_date, "the order date")
        with self._lock:
            conn = self._db()
            if not _has_tables(conn):
                raise InputError(f"there is no filing {filing_id} in this workspace")
            with self._write() as conn:
                self._require_active(conn, filing_id)
                members = self.filing_convictions(filing_id)
                if conviction_ids is not None:
                    missing = sorted(set(conviction_ids) - set(members.get_column("conviction_id").to_list()))
                    if missing:
                        raise InputError(f"{len(missing):,} of the convictions given are not in filing {filing_id}")
                    members = members.filter(pl.col("conviction_id").is_in(list(conviction_ids)))
                if case_number is not None:
                    key = _norm_key(case_number)
                    members = members.filter(pl.col("court_case_number").map_elements(
                        _norm_key, return_dtype=pl.String) == key)
                    if members.height == 0:
                        raise InputError(f"filing {filing_id} has no court case with that number")
                ids = members.get_column("conviction_id").to_list()
                if not ids:
                    raise InputError(f"filing {filing_id} has no convictions to rule on")
                return self._insert_rulings(conn, [(filing_id, c, ruling, when) for c in ids], "clerk", note,
                                            scope="conviction" if conviction_ids is not None else
                                            ("case" if case_number is not None else "filing"))

    def _insert_rulings(self, conn, rows: list[tuple[int, str, str, str]], source: str, note: str | None, *,
                        scope: str, extra: Mapping[str, Any] | None = None) -> list[int]:
        at = self._now()
        by: dict[str, int] = {}
        for r in rows:
            by[r[2]] = by.get(r[2], 0) + 1
        first = (conn.execute("SELECT COALESCE(MAX(ruling_id), 0) FROM rulings").fetchone()[0]) + 1
        seq = self._append_audit("ruling" if source == "clerk" else "rulings_imported", {
            "scope": scope, "source": source, "count": len(rows), "by_ruling": by,
            "filings": sorted({r[0] for r in rows}), "first_ruling_id": first, "last_ruling_id": first + len(rows) - 1,
            "convictions": [self.ref(r[1]) for r in rows], "has_note": bool(note), **(extra or {}),
        }, at=at)
        who = self.reviewer()
        conn.executemany(
            "INSERT INTO rulings (ruling_id, at, reviewer, filing_id, conviction_id, ruling, order_date, source, note, "
            "audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((first + i, at, who, fid, cid, ruling, when, source, note, seq)
             for i, (fid, cid, ruling, when) in enumerate(rows)))
        return list(range(first, first + len(rows)))

    def import_rulings(self, path: str | Path, *, filing_id: int | None = None,
                       mapping: Mapping[str, str] | None = None) -> RulingImport:
        """Import the court's returned update file (the court update CSV / XLSX this app made,
        with a ``ruling`` column filled in and ``order_date`` set), or a file of the court's own
        layout with ``mapping`` = {our column: their header} for ``ruling``, ``order_date``,
        ``conviction_id``, ``court_case_number``, ``count``. Rows are matched to convictions of
        active filings by conviction id, else by case number and count; rows that match nothing
        are listed with their line and the reason, never dropped."""
        src = local_path(path, what="ruling file")
        if not src.is_file():
            raise InputError(f"{src}: no such file")
        frame = _read_table(src)
        if mapping:
            unknown = sorted(set(mapping) - {"ruling", "order_date", "conviction_id", "court_case_number", "count"})
            if unknown:
                raise InputError(f"unknown column(s) in the mapping: {', '.join(unknown)}")
            theirs = {str(v).strip().lower().replace(" ", "_"): k for k, v in mapping.items()}
            missing = sorted(set(theirs) - set(frame.columns))
            if missing:
                raise InputError(f"{src.name}: has no column {', '.join(missing)} (named in the mapping)")
            frame = frame.drop([c for c in theirs.values() if c in frame.columns and c not in theirs]) \
                .rename(theirs)
        for needed in ("ruling", "order_date"):
            if needed not in frame.columns:
                raise InputError(f"{src.name}: has no '{needed}' column; fill in the court's ruling and order date "
                                 "in the court update file this app made (or give a mapping for the court's layout)")
        if "conviction_id" not in frame.columns and "court_case_number" not in frame.columns:
            raise InputError(f"{src.name}: has neither a conviction_id nor a court_case_number column to match rows")
        for c in ("conviction_id", "court_case_number", "count"):
            if c not in frame.columns:
                frame = frame.with_columns(pl.lit(None, pl.String).alias(c))
        result = RulingImport(source=src.name, rows=frame.height)
        words = pl.DataFrame({"_word": list(_RULING_WORDS), "_ruling": list(_RULING_WORDS.values())})
        frame = frame.with_columns(
            pl.col("ruling").fill_null("").str.to_lowercase().str.replace_all(r"[^a-z_]+", " ").str.strip_chars()
            .alias("_word"),
            _parse_dates(pl.col("order_date")).alias("_order"),
            pl.col("court_case_number").map_elements(_norm_key, return_dtype=pl.String).alias("_case"),
            pl.col("count").fill_null("").str.replace(r"^0+(\d)", "$1").alias("_count"),
        ).join(words, on="_word", how="left")
        filed = self._active_filed()
        if filing_id is not None:
            filed = filed.filter(pl.col("filing_id") == filing_id)
            if filed.height == 0:
                raise InputError(f"filing {filing_id} is not an active filing of this workspace")
        filed = filed.with_columns(
            pl.col("court_case_number").map_elements(_norm_key, return_dtype=pl.String).alias("_case"),
            pl.col("count_no").fill_null("").str.replace(r"^0+(\d)", "$1").alias("_count"))
        by_id = filed.select(pl.col("conviction_id").alias("_cid_id"), pl.col("filing_id").alias("_fid_id"),
                             pl.col("conviction_id"))
        by_case = filed.select("_case", "_count", pl.col("conviction_id").alias("_cid_case"),
                               pl.col("filing_id").alias("_fid_case")) \
            .unique(["_case", "_count"], keep="none")  # an ambiguous case/count pair never guesses
        matched = frame.join(by_id, on="conviction_id", how="left") \
            .join(by_case, on=["_case", "_count"], how="left") \
            .with_columns(pl.coalesce("_cid_id", "_cid_case").alias("_cid"),
                          pl.coalesce("_fid_id", "_fid_case").alias("_fid"))
        empty = matched.filter(pl.col("_word") == "")
        result.no_ruling = empty.height
        rest = matched.filter(pl.col("_word") != "")
        reason = (pl.when(pl.col("_ruling").is_null()).then(pl.lit("the ruling is not one of granted, granted "
                                                                   "differently, denied or continued"))
                  .when(pl.col("_cid").is_null()).then(pl.lit("no conviction of an active filing has this conviction "
                                                              "id or this case number and count"))
                  .when(pl.col("_order").is_null()).then(pl.lit("the order date is missing or not a date"))
                  .otherwise(pl.lit(None)))
        rest = rest.with_columns(reason.alias("_why"))
        bad = rest.filter(pl.col("_why").is_not_null())
        result.unmatched = [{"line": r["line"], "case": r["court_case_number"] or "", "count": r["count"] or "",
                             "reason": r["_why"]} for r in bad.select("line", "court_case_number", "count", "_why")
                            .iter_rows(named=True)]
        good = rest.filter(pl.col("_why").is_null()).unique("_cid", keep="last", maintain_order=True)
        dupes = rest.filter(pl.col("_why").is_null()).height - good.height
        if dupes:
            result.unmatched.append({"line": 0, "case": "", "count": "",
                                     "reason": f"{dupes:,} row(s) repeat a conviction; the last row for each counts"})
        rows = [(int(f), c, r, d) for f, c, r, d in good.select("_fid", "_cid", "_ruling", "_order").iter_rows()]
        if rows:
            with self._lock:
                with self._write() as conn:
                    digest = file_digests([src])[0]
                    self._insert_rulings(conn, rows, "file", None, scope="file",
                                         extra={"file": src.name, "sha256": digest["sha256"],
                                                "unmatched": len(result.unmatched), "no_ruling": result.no_ruling})
        result.recorded = len(rows)
        for r in rows:
            result.by_ruling[r[2]] = result.by_ruling.get(r[2], 0) + 1
        return result

    def rulings(self, ids: Sequence[str] | None = None) -> pl.DataFrame:
        """Every ruling recorded (or those of these conviction ids), oldest first."""
        cols = {"ruling_id": pl.Int64, "at": pl.String, "reviewer": pl.String, "filing_id": pl.Int64,
                "conviction_id": pl.String, "ruling": pl.String, "order_date": pl.String, "source": pl.String}
        with self._lock:
            conn = self._db()
            if not _has_tables(conn):
                return pl.DataFrame(schema=cols)
            sql = f"SELECT {', '.join(cols)} FROM rulings"
            rows = _select_in(conn, sql, "conviction_id", ids) if ids is not None else conn.execute(sql).fetchall()
        return pl.DataFrame(rows, schema=cols, orient="row").sort("ruling_id")

    # ----------------------------------------------------------------- DOJ

    def record_doj_report(self, conviction_ids: Sequence[str], reported_on: date | str) -> int:
        """The court's notice to DOJ is known for these granted convictions."""
        when = _iso(reported_on, "the date reported to DOJ")
        ids = list(dict.fromkeys(conviction_ids))
        if not ids:
            raise InputError("name the convictions the court reported to DOJ")
        latest = self.rulings().sort("ruling_id").unique("conviction_id", keep="last")
        granted = set(latest.filter(pl.col("ruling").is_in(GRANTED)).get_column("conviction_id").to_list())
        not_granted = [c for c in ids if c not in granted]
        if not_granted:
            raise InputError(f"{len(not_granted):,} of the convictions have no granted order recorded; "
                             "only a granted order is reported to DOJ")
        with self._lock:
            with self._write() as conn:
                _ensure_tables(conn)
                at = self._now()
                seq = self._append_audit("doj_reported", {"reported_on": when, "count": len(ids),
                                                          "convictions": [self.ref(c) for c in ids]}, at=at)
                who = self.reviewer()
                conn.executemany("INSERT INTO doj_notices (at, reviewer, conviction_id, reported_on, audit_seq) "
                                 "VALUES (?, ?, ?, ?, ?)", ((at, who, c, when, seq) for c in ids))
        return len(ids)

    # ----------------------------------------------------------------- status

    def statuses(self, run_id: int | None = None) -> pl.DataFrame:
        """One row per conviction of the run (default: the latest) and of every filing:
        ``status`` along screened -> decided -> filed -> ruled -> reported_to_doj, with the date
        it got there (``since``), the decision, filing, latest ruling and order date."""
        run = self.latest_run() if run_id is None else {"run_id": run_id}
        base = (self.load_results(run["run_id"]).select("conviction_id", "courthouse", "conviction_date")
                if run else None)
        return self._statuses_of(base)

    def filed_statuses(self) -> pl.DataFrame:
        """What the filing tables add to the decisions: one row per conviction of an active
        filing, with its status (filed, ruled or reported to DOJ), filing, ruling and dates. Small
        next to the run; the desktop app keeps it and works out every status with
        ``combine_statuses`` from the frames it holds."""
        return self._statuses_of(None).drop("courthouse", "conviction_date", "in_run", "decision", "decided_on")

    def _statuses_of(self, base: pl.DataFrame | None, ids: Sequence[str] | None = None) -> pl.DataFrame:
        """Statuses of the convictions in ``base`` (and, without ``ids``, of every filed one);
        with ``ids`` only those convictions are read from the tables (a lookup)."""
        if base is None:
            base = pl.DataFrame(schema={"conviction_id": pl.String, "courthouse": pl.String,
                                        "conviction_date": pl.String})
        base = base.select("conviction_id", "courthouse", pl.col("conviction_date").cast(pl.String),
                           pl.lit(True).alias("in_run"))
        decisions = self._decisions_of(ids).select(
            "conviction_id", "decision", pl.col("decided_at").str.slice(0, 10).alias("decided_on"))
        filed = self._active_filed(ids).select("conviction_id", "filing_id", "filed_on", "exhibit", "action")
        rulings = self.rulings(ids)
        if filed.height and rulings.height:
            # a ruling counts while its filing (or the one amending it) is the conviction's filing
            latest = (rulings.join(filed.select("conviction_id"), on="conviction_id", how="semi")
                      .sort("ruling_id").unique("conviction_id", keep="last")
                      .select("conviction_id", "ruling", "order_date"))
        else:
            latest = pl.DataFrame(schema={"conviction_id": pl.String, "ruling": pl.String, "order_date": pl.String})
        notices = self._doj_notices(ids)
        extra = filed.join(base, on="conviction_id", how="anti").select("conviction_id")
        frame = pl.concat([base, extra.with_columns(pl.lit(None, pl.String).alias("courthouse"),
                                                    pl.lit(None, pl.String).alias("conviction_date"),
                                                    pl.lit(False).alias("in_run"))], how="vertical_relaxed")
        frame = (frame.join(decisions, on="conviction_id", how="left")
                 .join(filed, on="conviction_id", how="left")
                 .join(latest, on="conviction_id", how="left")
                 .join(notices, on="conviction_id", how="left"))
        final = pl.col("ruling").is_in(FINAL_RULINGS)
        status = (pl.when(pl.col("reported_on").is_not_null() & final).then(pl.lit("reported_to_doj"))
                  .when(final).then(pl.lit("ruled"))
                  .when(pl.col("filing_id").is_not_null()).then(pl.lit("filed"))
                  .when(pl.col("decision").is_not_null() & (pl.col("decision") != "defer")).then(pl.lit("decided"))
                  .otherwise(pl.lit("screened")))
        since = (pl.when(pl.col("status") == "reported_to_doj").then(pl.col("reported_on"))
                 .when(pl.col("status") == "ruled").then(pl.col("order_date"))
                 .when(pl.col("status") == "filed").then(pl.col("filed_on"))
                 .when(pl.col("status") == "decided").then(pl.col("decided_on"))
                 .otherwise(pl.lit(None, pl.String)))
        return frame.with_columns(status.alias("status")).with_columns(since.alias("since"))

    def _doj_notices(self, ids: Sequence[str] | None = None) -> pl.DataFrame:
        schema = {"conviction_id": pl.String, "reported_on": pl.String}
        with self._lock:
            conn = self._db()
            if not _has_tables(conn):
                return pl.DataFrame(schema=schema)
            sql = "SELECT conviction_id, reported_on FROM doj_notices"
            rows = _select_in(conn, sql, "conviction_id", ids) if ids is not None else conn.execute(sql).fetchall()
        return (pl.DataFrame(rows, schema=schema, orient="row").group_by("conviction_id")
                .agg(pl.col("reported_on").max()))

    def _decisions_of(self, ids: Sequence[str] | None) -> pl.DataFrame:
        if ids is None:
            return self.current_decisions()
        with self._lock:
            effective = [stack[-1] for c in ids if (stack := self._active.get(c))]
        frame = self.current_decisions().head(0) if not effective else None
        if frame is not None:
            return frame
        from .schema import _DECISION_SCHEMA

        with self._lock:
            rows = _select_in(self._db(), "SELECT conviction_id, decision, at FROM decision_events", "event_id",
                              effective)
        return pl.DataFrame(rows, schema={"conviction_id": pl.String, "decision": pl.String,
                                          "decided_at": _DECISION_SCHEMA["decided_at"]}, orient="row")

    def status_counts(self, statuses: pl.DataFrame | None = None) -> dict[str, int]:
        """How many convictions are at each status (every status listed, zeros included)."""
        return status_counts_of(self.statuses() if statuses is None else statuses)

    def waiting(self, days: int = DEFAULT_WAIT_DAYS, *, as_of: date | None = None,
                statuses: pl.DataFrame | None = None) -> pl.DataFrame:
        """Convictions waiting longer than ``days`` for their next step: decided but not filed,
        filed (or continued) without a ruling, granted without a known notice to DOJ."""
        today = as_of or date.fromisoformat(self._now()[:10])
        return waiting_among(self.statuses() if statuses is None else statuses, days, today)

    def doj_unchanged(self, days: int = DEFAULT_DOJ_GRACE_DAYS) -> pl.DataFrame:
        """Granted convictions a DOJ extract imported more than ``days`` after the order still
        lists as they were filed (same code section and level): the court's update may not have
        reached DOJ. Compares the latest run with what each filing recorded."""
        run = self.latest_run()
        empty = pl.DataFrame(schema={"conviction_id": pl.String, "filing_id": pl.Int64, "ruling": pl.String,
                                     "order_date": pl.String, "extract_imported": pl.String, "days_after": pl.Int64})
        if run is None:
            return empty
        imported = [i["imported_at"][:10] for i in self.imports() if i["import_id"] in set(run.get("import_ids") or [])]
        if not imported:
            imported = [run["created_at"][:10]]
        extract_day = max(imported)
        statuses = self.statuses().filter(pl.col("ruling").is_in(GRANTED) & pl.col("in_run"))
        if statuses.height == 0:
            return empty
        filed = self.filing_convictions().select("filing_id", "conviction_id", pl.col("code_section").alias("_s0"),
                                                 pl.col("level").alias("_l0"))
        now = self.load_results(run["run_id"]).select("conviction_id", pl.col("code_section").cast(pl.String).alias("_s1"),
                                                      pl.col("level").cast(pl.String).alias("_l1"))
        frame = (statuses.select("conviction_id", "filing_id", "ruling", "order_date")
                 .join(filed, on=["filing_id", "conviction_id"], how="left")
                 .join(now, on="conviction_id", how="inner")
                 .filter((pl.col("_s0").fill_null(pl.col("_s1")) == pl.col("_s1"))
                         & (pl.col("_l0").fill_null(pl.col("_l1")) == pl.col("_l1")))
                 .with_columns(pl.lit(extract_day).alias("extract_imported"),
                               (pl.lit(date.fromisoformat(extract_day)) - pl.col("order_date").str.to_date(strict=False))
                               .dt.total_days().alias("days_after")))
        return frame.filter(pl.col("days_after") > days).select(list(empty.columns))

    def progress_figures(self) -> dict[str, Any]:
        """Counts by status, by month of the step reached and by courthouse (for the reports)."""
        frame = self.statuses()
        by_month: dict[str, dict[str, int]] = {}
        for status, month, n in (frame.filter(pl.col("since").is_not_null())
                                 .group_by("status", pl.col("since").str.slice(0, 7).alias("month")).len()
                                 .sort("month", "status").iter_rows()):
            by_month.setdefault(month, {s: 0 for s in STATUSES})[status] = int(n)
        by_court: dict[str, dict[str, int]] = {}
        for court, status, n in (frame.with_columns(pl.col("courthouse").fill_null("(unknown)"))
                                 .group_by("courthouse", "status").len().sort("courthouse").iter_rows()):
            by_court.setdefault(court, {s: 0 for s in STATUSES})[status] = int(n)
        rulings = dict(frame.filter(pl.col("ruling").is_not_null()).group_by("ruling").len().iter_rows())
        return {"by_status": self.status_counts(frame), "by_month": by_month, "by_courthouse": by_court,
                "rulings": {r: int(rulings.get(r, 0)) for r in RULINGS}}

    # ----------------------------------------------------------------- lookup

    def person_index(self) -> PersonIndex:
        """The lookup index of the latest run (built once per run and kept)."""
        run = self.latest_run()
        if run is None:
            raise InputError("the workspace has no screening run yet: import and screen an extract first")
        cached = getattr(self, "_person_index", None)
        if cached is None or cached.run_id != run["run_id"]:
            cached = PersonIndex(self.load_results(run["run_id"]), run["run_id"])
            self._person_index = cached
        return cached

    def lookup(self, *, reason: str, name: str | None = None, dob: date | str | None = None,
               cii: str | None = None, case: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Find people (by name tolerant of spelling, date of birth, CII or case number) and the
        status of each of their cannabis convictions. Audited with the reason given (the reason
        stays in the table; the trail names the people found only by opaque reference)."""
        if not isinstance(reason, str) or not reason.strip():
            raise InputError("a lookup needs a reason (e.g. 'caller asked about their record')")
        given = {k: v for k, v in (("name", name), ("dob", dob), ("cii", cii), ("case", case))
                 if v is not None and str(v).strip()}
        if not given:
            raise InputError("give a name, a date of birth, a CII number or a case number to look up")
        index = self.person_index()
        people = index.find(name=name, dob=dob, cii=cii, case=case, limit=limit)
        mine = index.convictions.filter(pl.col("subject_id").is_in([p["subject_id"] for p in people]))
        ids = mine.get_column("conviction_id").to_list()
        statuses = self._statuses_of(mine, ids).filter(pl.col("in_run"))
        out = []
        for p in people:
            convictions = (mine.filter(pl.col("subject_id") == p["subject_id"])
                           .select("conviction_id", "court_case_number", "courthouse",
                                   pl.col("conviction_date").cast(pl.String), "code_section", "level", "outcome")
                           .join(statuses.select("conviction_id", "status", "since", "decision", "filing_id",
                                                 "filed_on", "action", "ruling", "order_date", "reported_on"),
                                 on="conviction_id", how="left")
                           .sort("conviction_date", "court_case_number", nulls_last=True))
            out.append({**p, "convictions": convictions.to_dicts()})
        with self._lock:
            with self._write() as conn:
                _ensure_tables(conn)
                at = self._now()
                seq = self._append_audit("lookup", {"by": sorted(given), "has_reason": True, "matches": len(out),
                                                    "people": [self.ref(p["subject_id"], "person") for p in out]}, at=at)
                conn.execute("INSERT INTO lookups (at, reviewer, fields, reason, matches, audit_seq) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (at, self.reviewer(), ",".join(sorted(given)), reason.strip(), len(out), seq))
        return out

    def log_status_letter(self, subject_id: str, conviction_ids: Sequence[str], *, reason: str) -> int:
        """Record that a status letter was made for a person (opaque references only)."""
        if not isinstance(reason, str) or not reason.strip():
            raise InputError("a status letter needs a reason (e.g. 'requested by the person')")
        with self._lock:
            with self._write() as conn:
                _ensure_tables(conn)
                at = self._now()
                seq = self._append_audit("status_letter", {
                    "person": self.ref(subject_id, "person"), "count": len(conviction_ids),
                    "convictions": [self.ref(c) for c in conviction_ids], "has_reason": True}, at=at)
                conn.execute("INSERT INTO lookups (at, reviewer, fields, reason, matches, audit_seq) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (at, self.reviewer(), "letter", reason.strip(), 1, seq))
                return seq


def status_counts_of(frame: pl.DataFrame) -> dict[str, int]:
    """How many convictions of ``frame`` (a statuses frame) are at each status, zeros included."""
    got = dict(frame.group_by("status").len().iter_rows()) if frame.height else {}
    return {s: int(got.get(s, 0)) for s in STATUSES}


def combine_statuses(base: pl.DataFrame, decisions: pl.DataFrame, filed: pl.DataFrame) -> pl.DataFrame:
    """Each conviction's status from frames already in memory: ``base`` (the run's
    ``conviction_id``, ``courthouse``, ``conviction_date``), the effective ``decisions``
    (``conviction_id``, ``decision``, ``decided_at``) and ``Workspace.filed_statuses()``.

    Gives what ``Workspace.statuses()`` gives (a test holds them equal) without reading the
    workspace, so the desktop app can count on its reader thread while the attorney decides."""
    base = base.select("conviction_id", "courthouse", pl.col("conviction_date").cast(pl.String),
                       pl.lit(True).alias("in_run"))
    if "conviction_id" not in filed.columns:   # nothing filed yet
        filed = pl.DataFrame(schema={"conviction_id": pl.String, "filing_id": pl.Int64, "status": pl.String,
                                     "since": pl.String, "ruling": pl.String, "order_date": pl.String})
    extra = (filed.join(base, on="conviction_id", how="anti").select("conviction_id")
             .with_columns(pl.lit(None, pl.String).alias("courthouse"),
                           pl.lit(None, pl.String).alias("conviction_date"), pl.lit(False).alias("in_run")))
    if decisions.height and "decision" in decisions.columns:
        dec = decisions.select("conviction_id", "decision",
                               pl.col("decided_at").cast(pl.String).str.slice(0, 10).alias("decided_on"))
    else:
        dec = pl.DataFrame(schema={"conviction_id": pl.String, "decision": pl.String, "decided_on": pl.String})
    frame = (pl.concat([base, extra], how="vertical_relaxed")
             .join(dec, on="conviction_id", how="left")
             .join(filed.rename({"status": "_filed_status", "since": "_filed_since"}), on="conviction_id",
                   how="left"))
    decided = pl.col("decision").is_not_null() & (pl.col("decision") != "defer")
    return (frame.with_columns(
                pl.coalesce(pl.col("_filed_status"), pl.when(decided).then(pl.lit("decided"))
                            .otherwise(pl.lit("screened"))).alias("status"),
                pl.coalesce(pl.col("_filed_since"), pl.when(decided).then(pl.col("decided_on"))).alias("since"))
            .drop("_filed_status", "_filed_since"))


def waiting_among(frame: pl.DataFrame, days: int, today: date) -> pl.DataFrame:
    """The convictions of a statuses frame waiting longer than ``days`` on ``today`` for their
    next step, longest first, with ``waiting_for`` and ``days_waiting``."""
    if days < 0:
        raise InputError("the number of days to wait must be 0 or more")
    frame = frame.filter(
        pl.col("status").is_in(["decided", "filed"])
        | ((pl.col("status") == "ruled") & pl.col("ruling").is_in(GRANTED)))
    waiting_for = (pl.when(pl.col("status") == "decided").then(pl.lit("filing"))
                   .when(pl.col("status") == "filed").then(pl.lit("the court's ruling"))
                   .otherwise(pl.lit("the court's notice to DOJ")))
    frame = frame.with_columns(
        waiting_for.alias("waiting_for"),
        (pl.lit(today) - pl.col("since").str.to_date(strict=False)).dt.total_days().alias("days_waiting"))
    return frame.filter(pl.col("days_waiting") > days).sort("days_waiting", descending=True)


def _select_in(conn, sql: str, column: str, values: Sequence[Any]) -> list[tuple]:
    """``sql WHERE column IN (...)`` in chunks SQLite accepts."""
    values = list(values)
    out: list[tuple] = []
    for i in range(0, len(values), 500):
        part = values[i:i + 500]
        out += conn.execute(f"{sql} WHERE {column} IN ({', '.join('?' * len(part))})", part).fetchall()
    return out


def _parse_dates(expr: pl.Expr) -> pl.Expr:
    """ISO or US dates (as the court update file and spreadsheets write them) as ISO text."""
    text = expr.fill_null("").str.strip_chars().str.slice(0, 10)
    return pl.coalesce(text.str.to_date("%Y-%m-%d", strict=False), text.str.to_date("%m/%d/%Y", strict=False),
                       text.str.to_date("%m/%d/%y", strict=False)).dt.to_string("%Y-%m-%d")


def status_sentence(row: Mapping[str, Any]) -> str:
    """One conviction's status in plain language (for the lookup and the letter)."""
    status = row.get("status") or "screened"
    if status == "reported_to_doj":
        return (f"The court {RULING_LABELS.get(row.get('ruling'), 'ruled')} on {row.get('order_date')}; the court "
                f"reported its order to the Department of Justice on {row.get('reported_on')}.")
    if status == "ruled":
        return f"The court's order of {row.get('order_date')}: {RULING_LABELS.get(row.get('ruling'), row.get('ruling'))}."
    if status == "filed":
        extra = " The court continued the matter." if row.get("ruling") == "continued" else ""
        return f"Filed with the court on {row.get('filed_on')}; waiting for the court's order.{extra}"
    if status == "decided":
        return "Reviewed by the District Attorney's office; not yet filed with the court."
    return "Identified in the records; not yet reviewed by the District Attorney's office."
