"""``clearrec audit verify``: the whole workspace checked against its hash-chained audit trail.

The chain is re-hashed entry by entry; then every table the trail speaks for is compared with
it: each decision, undo and redo (conviction, decision, proposal, ground, reviewer, time, with
or without a reason and notes), each import and run (identity, counts, and the SHA-256 of the
stored rows and results, recomputed from the bytes), each note and link decision; the
append-only triggers must be there with their original text; SQLite's integrity check and
SQLCipher's page authentication must pass. Every difference is reported, not just the first.

Someone holding the passphrase can rewrite the whole chain consistently; that is caught only
against a head printed earlier (``heads_in_file`` and ``--against``): a packet, workbook or
report names the head it was made after, and a history that no longer holds it was rewritten.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..safety import local_path
from .audit import audit_entry_hash
from .schema import _CORRECTIONS_SCHEMA, _SCHEMA, GENESIS_HASH

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass
class VerifyReport:
    entries: int = 0
    head: str = GENESIS_HASH
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str, seq: int | None = None) -> None:
        self.problems.append(text)
        if seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq):
            self.first_bad_seq = seq

    def summary(self) -> str:
        if self.ok:
            return f"audit trail intact: {self.entries} entries, head {self.head}; the workspace matches it"
        return "; ".join(self.problems)

    def lines(self) -> list[str]:
        if self.ok:
            return [self.summary(), *self.notes]
        return [f"{len(self.problems)} problem(s) found:", *(f"  - {p}" for p in self.problems), *self.notes]


def _norm_sql(sql: str | None) -> str:
    text = re.sub(r"\s+", " ", (sql or "").replace("IF NOT EXISTS ", "")).strip().rstrip(";")
    return text


def expected_triggers() -> dict[str, str]:
    from .filings import _TABLES as FILING_TABLES
    from .links import _TABLE as LINK_TABLE

    out = {}
    for text in (_SCHEMA, LINK_TABLE, _CORRECTIONS_SCHEMA, FILING_TABLES):
        for m in re.finditer(r"CREATE TRIGGER.*?END;", text, re.S):
            stmt = m.group(0)
            name = re.match(r"CREATE TRIGGER (?:IF NOT EXISTS )?(\w+)", stmt).group(1)
            out[name] = _norm_sql(stmt)
    return out


def verify(ws) -> VerifyReport:
    """Check everything the trail speaks for (see the module doc). Runs under the workspace lock."""
    rep = VerifyReport()
    with ws._lock:
        conn = ws._db()
        entries = _check_chain(ws, conn, rep)
        _check_triggers(conn, rep)
        by_action: dict[str, list[dict]] = {}
        for e in entries:
            by_action.setdefault(e["action"], []).append(e)
        _check_decisions(ws, conn, by_action, rep)
        _check_imports(ws, conn, by_action.get("import", []), rep)
        _check_runs(ws, conn, by_action.get("run", []), rep)
        _check_notes(ws, conn, by_action.get("note", []), rep)
        _check_links(ws, conn, by_action.get("link_decision", []), rep)
        _check_reconciliations(conn, by_action.get("reconciliation_tables", []), rep)
        _check_storage(conn, rep)
        _check_sessions(ws, by_action.get("opened_without_log", []), rep)
    return rep


def _check_chain(ws, conn, rep: VerifyReport) -> list[dict]:
    entries: list[dict] = []
    expected_seq, prev_hash = 1, GENESIS_HASH
    broken = False
    for seq, at, actor, action, details_text, stored_prev, stored_hash in conn.execute(
        "SELECT seq, at, actor, action, details, prev_hash, hash FROM audit ORDER BY seq"
    ):
        if broken:
            continue
        if seq != expected_seq:
            rep.problem(f"audit entry {expected_seq} is missing", expected_seq)
            broken = True
            continue
        if stored_prev != prev_hash:
            rep.problem(f"audit entry {seq} does not link to entry {seq - 1}", seq)
            broken = True
            continue
        try:
            details = json.loads(details_text)
        except (TypeError, ValueError):
            rep.problem(f"audit entry {seq} has unreadable details", seq)
            broken = True
            continue
        if audit_entry_hash(seq, at, actor, action, details, stored_prev) != stored_hash:
            rep.problem(f"audit entry {seq} was altered after it was written", seq)
            broken = True
            continue
        entries.append({"seq": seq, "at": at, "actor": actor, "action": action, "details": details,
                        "hash": stored_hash})
        expected_seq, prev_hash = seq + 1, stored_hash
    rep.entries, rep.head = expected_seq - 1, prev_hash
    if not broken:
        count = int(ws._meta("audit_count") or -1)
        if count != expected_seq - 1 or ws._meta("audit_head") != prev_hash:
            first_bad = min(count, expected_seq - 1) + 1 if count >= 0 else expected_seq
            rep.problem(f"the audit trail ends at entry {expected_seq - 1} but the workspace recorded {count} entries",
                        first_bad)
    return entries


def _check_triggers(conn, rep: VerifyReport) -> None:
    from .filings import TABLES as FILING_TABLES

    present = {name: _norm_sql(sql) for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")}
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for name, sql in expected_triggers().items():
        if name.startswith("link_decisions") and "link_decisions" not in tables:
            continue
        if name.startswith("decision_corrections") and "decision_corrections" not in tables:
            continue
        if name.rsplit("_no_", 1)[0] in FILING_TABLES and "filings" not in tables:
            continue
        if name not in present:
            what = "audit trail" if name.startswith("audit") else name.split("_no_")[0].replace("_", " ")
            rep.problem(f"the {what}'s append-only protection has been removed (trigger {name})")
        elif present[name] != sql:
            rep.problem(f"trigger {name} was replaced by another one")
    for name in sorted(set(present) - set(expected_triggers())):
        rep.problem(f"an unknown trigger {name} was added")


def _conviction_matches(ws, details: dict, conviction_id: str | None) -> bool:
    if "conviction" in details:
        if details["conviction"] is None or conviction_id is None:
            return details["conviction"] is None and conviction_id is None
        return details["conviction"] == ws.ref(conviction_id)
    return details.get("conviction_id") == conviction_id  # entries written before opaque ids


def _check_decisions(ws, conn, by_action: dict[str, list[dict]], rep: VerifyReport) -> None:
    chained = {}
    for kind in ("decision", "undo", "redo"):
        for e in by_action.get(kind, []):
            chained[e["details"].get("event_id")] = (kind, e)
    seen = set()
    corrected: dict[int, list[str]] = {}
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'decision_corrections'").fetchone():
        for event_id, fld in conn.execute("SELECT event_id, field FROM decision_corrections ORDER BY event_id, field"):
            corrected.setdefault(event_id, []).append(fld)
    for row in conn.execute(
        "SELECT event_id, at, kind, conviction_id, decision, proposed, reason, ground, notes, reviewer,"
        " target_event_id FROM decision_events ORDER BY event_id"
    ):
        event_id, at, kind, cid, decision, proposed, reason, ground, notes, reviewer, target = row
        seen.add(event_id)
        hit = chained.get(event_id)
        if hit is None:
            rep.problem(f"decision log event {event_id} ({kind}) has no entry in the audit trail (added behind "
                        "the program's back, or the trail was cut)")
            continue
        ekind, e = hit
        d = e["details"]
        diffs = []
        if ekind != kind:
            diffs.append(f"kind {kind} (trail: {ekind})")
        if not _conviction_matches(ws, d, cid):
            diffs.append("conviction")
        if e["at"] != at:
            diffs.append("time")
        if kind == "decision":
            for key, value in (("decision", decision), ("proposed", proposed), ("ground", ground),
                               ("reviewer", reviewer)):
                if d.get(key) != value:
                    diffs.append(f"{key} {value!r} (trail: {d.get(key)!r})")
            if d.get("has_reason") != (reason is not None):
                diffs.append("reason " + ("added" if reason is not None else "removed"))
            if d.get("has_notes") != (notes is not None):
                diffs.append("notes " + ("added" if notes is not None else "removed"))
            if sorted(d.get("corrected") or []) != corrected.get(event_id, []):
                diffs.append("corrections of the record")
        elif d.get("target_event_id") != target:
            diffs.append(f"target event {target} (trail: {d.get('target_event_id')})")
        if diffs:
            rep.problem(f"decision log event {event_id} differs from audit entry {e['seq']}: {', '.join(diffs)}",
                        e["seq"])
    for event_id, (kind, e) in sorted(chained.items(), key=lambda kv: kv[1][1]["seq"]):
        if event_id not in seen:
            rep.problem(f"the {kind} recorded by audit entry {e['seq']} (event {event_id}) is missing from the "
                        "decision log", e["seq"])


def _frame_digest(conn, frame_id: int) -> tuple[str | None, str]:
    """(stored digest, digest of the stored bytes)."""
    row = conn.execute("SELECT sha256 FROM frames WHERE frame_id = ?", (frame_id,)).fetchone()
    digest = hashlib.sha256()
    for (chunk,) in conn.execute("SELECT data FROM frame_chunks WHERE frame_id = ? ORDER BY chunk_no", (frame_id,)):
        digest.update(chunk)
    return (row[0] if row else None), digest.hexdigest()


def _check_frame(conn, frame_id, chained: str | None, what: str, seq: int, rep: VerifyReport) -> None:
    stored, actual = _frame_digest(conn, frame_id)
    if stored is None:
        rep.problem(f"the stored {what} (audit entry {seq}) is missing", seq)
    elif chained is not None and actual != chained:
        rep.problem(f"the stored {what} was altered after audit entry {seq} recorded it"
                    + (" (its checksum was recomputed to hide it)" if stored == actual else ""), seq)
    elif stored != actual:
        rep.problem(f"the stored {what} (audit entry {seq}) is damaged: its checksum does not match", seq)


def _check_reconciliations(conn, entries: list[dict], rep: VerifyReport) -> None:
    """A reconciliation run's table and links (workspace/reconciliations.py) against the
    digests its audit entry recorded."""
    if not entries:
        return
    stored = {r[0]: r for r in conn.execute("SELECT run_id, table_frame_id, links_frame_id FROM run_reconciliations")}
    for e in entries:
        d = e["details"]
        row = stored.get(d.get("run_id"))
        if row is None:
            rep.problem(f"the reconciliation tables of run {d.get('run_id')} (audit entry {e['seq']}) are missing", e["seq"])
            continue
        _check_frame(conn, row[1], d.get("table_sha256"), f"reconciliation table of run {row[0]}", e["seq"], rep)
        _check_frame(conn, row[2], d.get("links_sha256"), f"reconciliation links of run {row[0]}", e["seq"], rep)


def _check_imports(ws, conn, entries: list[dict], rep: VerifyReport) -> None:
    rows = {r[0]: r for r in conn.execute(
        "SELECT import_id, source_name, size, sha256, imported_at, lines_read, rows_imported, lines_rejected,"
        " rows_frame_id FROM imports")}
    for e in entries:
        d = e["details"]
        r = rows.pop(d.get("import_id"), None)
        if r is None:
            rep.problem(f"import {d.get('import_id')} recorded by audit entry {e['seq']} is missing", e["seq"])
            continue
        fields = {"source_name": r[1], "size": r[2], "sha256": r[3], "lines_read": r[5], "rows_imported": r[6],
                  "lines_rejected": r[7]}
        diffs = [k for k, v in fields.items() if k in d and d[k] != v]
        if r[4] != e["at"]:
            diffs.append("time")
        if diffs:
            rep.problem(f"import {r[0]} differs from audit entry {e['seq']}: {', '.join(diffs)}", e["seq"])
        _check_frame(conn, r[8], d.get("rows_sha256"), f"rows of import {r[0]}", e["seq"], rep)
    for import_id in sorted(rows):
        rep.problem(f"import {import_id} has no entry in the audit trail")


def _check_runs(ws, conn, entries: list[dict], rep: VerifyReport) -> None:
    rows = {r[0]: r for r in conn.execute(
        "SELECT run_id, created_at, profile_id, profile_text, profile_sha256, county, as_of, n_results,"
        " summary_json, results_frame_id FROM runs")}
    for e in entries:
        d = e["details"]
        r = rows.pop(d.get("run_id"), None)
        if r is None:
            rep.problem(f"run {d.get('run_id')} recorded by audit entry {e['seq']} is missing", e["seq"])
            continue
        run_id = r[0]
        diffs = []
        if r[1] != e["at"]:
            diffs.append("time")
        for key, value in (("profile_id", r[2]), ("profile_sha256", r[4]), ("county", r[5]), ("as_of", r[6]),
                           ("convictions", r[7])):
            if key in d and d[key] != value:
                diffs.append(key)
        if hashlib.sha256(r[3].encode("utf-8")).hexdigest() != r[4]:
            diffs.append("profile text")
        imports = [i for (i,) in conn.execute(
            "SELECT import_id FROM run_imports WHERE run_id = ? ORDER BY position", (run_id,))]
        if "import_ids" in d and d["import_ids"] != imports:
            diffs.append("imports")
        if "summary_sha256" in d and hashlib.sha256(r[8].encode("utf-8")).hexdigest() != d["summary_sha256"]:
            diffs.append("summary")
        if diffs:
            rep.problem(f"run {run_id} differs from audit entry {e['seq']}: {', '.join(diffs)}", e["seq"])
        if "results_sha256" in d:
            _check_frame(conn, r[9], d["results_sha256"], f"results of run {run_id}", e["seq"], rep)
        else:  # entries written before the results' digest was chained: recount the outcomes
            _check_frame(conn, r[9], None, f"results of run {run_id}", e["seq"], rep)
            try:
                results = ws._load_frame(r[9])
                counts = {str(k): int(v) for k, v in results.get_column("outcome").fill_null("").value_counts()
                          .iter_rows()}
            except Exception:  # damaged: reported above
                continue
            if "by_outcome" in d and counts != d["by_outcome"]:
                rep.problem(f"the outcomes stored for run {run_id} differ from those audit entry {e['seq']} "
                            f"recorded ({_outcome_diff(d['by_outcome'], counts)})", e["seq"])
    for run_id in sorted(rows):
        rep.problem(f"run {run_id} has no entry in the audit trail")


def _outcome_diff(before: dict, after: dict) -> str:
    keys = sorted(set(before) | set(after))
    return ", ".join(f"{k} {before.get(k, 0):,} -> {after.get(k, 0):,}" for k in keys if before.get(k, 0) != after.get(k, 0))


def _check_notes(ws, conn, entries: list[dict], rep: VerifyReport) -> None:
    rows = {r[0]: r for r in conn.execute("SELECT note_id, at, conviction_id FROM notes")}
    for e in entries:
        d = e["details"]
        r = rows.pop(d.get("note_id"), None)
        if r is None:
            rep.problem(f"note {d.get('note_id')} recorded by audit entry {e['seq']} is missing", e["seq"])
        elif r[1] != e["at"] or not _conviction_matches(ws, d, r[2]):
            rep.problem(f"note {r[0]} differs from audit entry {e['seq']}", e["seq"])
    for note_id in sorted(rows):
        rep.problem(f"note {note_id} has no entry in the audit trail")


def _check_links(ws, conn, entries: list[dict], rep: VerifyReport) -> None:
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'link_decisions'").fetchone() is None:
        rows = {}
    else:
        rows = {r[0]: r for r in conn.execute(
            "SELECT audit_seq, decision_id, at, kind, county_key, doj_key, decision, reason FROM link_decisions")}
    for e in entries:
        d = e["details"]
        r = rows.pop(e["seq"], None)
        if r is None:
            rep.problem(f"the link decision recorded by audit entry {e['seq']} is missing", e["seq"])
            continue
        same_keys = ((d.get("county"), d.get("doj")) == (ws.ref(r[4], "link"), ws.ref(r[5], "link"))
                     if "county" in d else (d.get("county_key"), d.get("doj_key")) == (r[4], r[5]))
        if (r[2] != e["at"] or r[3] != d.get("kind") or r[6] != d.get("decision") or not same_keys
                or d.get("with_reason") != (r[7] is not None)):
            rep.problem(f"link decision {r[1]} differs from audit entry {e['seq']}", e["seq"])
    for seq in sorted(rows):
        rep.problem(f"link decision {rows[seq][1]} has no entry in the audit trail")


def _check_storage(conn, rep: VerifyReport) -> None:
    try:
        for (text,) in conn.execute("PRAGMA integrity_check"):
            if text != "ok":
                rep.problem(f"SQLite integrity check: {text}")
        for (text,) in conn.execute("PRAGMA cipher_integrity_check"):
            rep.problem(f"encryption check: {text} (the file was altered on disk, or the disk is failing)")
        for row in conn.execute("PRAGMA foreign_key_check"):
            rep.problem(f"a {row[0]} row refers to a missing {row[2]} row")
    except Exception as exc:  # a damaged page stops the check itself
        rep.problem(f"the storage check could not finish: the file is damaged ({type(exc).__name__})")


def _check_sessions(ws, gaps: list[dict], rep: VerifyReport) -> None:
    s = ws.unclosed_session
    if s is not None and not s["log_found"]:
        rep.problem(
            f"this file is incomplete: it was in use by ClearRec (opened {s['opened_at']} by {s['opened_by']}) when "
            f"it was copied or when the program stopped, and its log ({ws.path.name}-wal) is not beside it, so "
            f"whatever was recorded after {s['opened_at']} is missing. Make copies with File > Back up... "
            "(or `clearrec workspace backup`), which are always complete")
    for e in gaps:
        rep.notes.append(
            f"note: audit entry {e['seq']}: on {e['at']} this workspace was opened from a file without its log; "
            f"work recorded after {e['details'].get('session_opened_at')} in the session before was lost then")
    rep.notes.extend(f"note: {n}" for n in ws.notices)


# ------------------------------------------------------------------------ printed heads


def heads_in_file(path: str | Path) -> list[str]:
    """The audit chain heads printed on a packet, motion, notice, report (PDF), review workbook
    (.xlsx) or any text file, labelled ones first."""
    p = local_path(path, what="file")
    suffix = p.suffix.lower()
    try:
        if suffix == ".pdf":
            text = _pdf_text(p)
        elif suffix in (".xlsx", ".xlsm"):
            text = _xlsx_text(p)
        else:
            text = p.read_text(encoding="utf-8", errors="replace")
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{p.name}: cannot be read to find the audit chain head printed on it "
                         f"({type(exc).__name__})") from None
    flat = re.sub(r"\s+", "", text).lower()
    labelled = re.findall(r"chainhead(?:\(sha-?256\))?:?([0-9a-f]{64})", flat)
    others = [h for h in _HEX64.findall(flat) if h not in labelled]
    out: list[str] = []
    for h in labelled + others:
        if h not in out:
            out.append(h)
    return out


def _pdf_text(path: Path) -> str:
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(path))
    try:
        parts = []
        for i in range(len(doc)):
            page = doc[i]
            textpage = page.get_textpage()
            parts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return "\n".join(parts)
    finally:
        doc.close()


def _xlsx_text(path: Path) -> str:
    # The strings of every part (shared strings and sheets), in order; no formula is evaluated.
    parts = []
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.filename.endswith(".xml") and info.file_size < 256 * 1024**2:
                xml = zf.read(info).decode("utf-8", errors="replace")
                parts.append(" ".join(re.findall(r"<(?:\w+:)?t(?:\s[^>]*)?>([^<]*)</", xml)))
    return "\n".join(parts)


def check_against(ws, path: str | Path) -> tuple[bool, str]:
    """Whether the workspace's history still holds the head printed on ``path`` (a file, or the
    64 hex digits typed from a printed page)."""
    text = str(path).strip().lower()
    if _HEX64.fullmatch(text):
        heads, source = [text], "the head given"
    else:
        heads = heads_in_file(path)
        source = Path(path).name
        if not heads:
            raise InputError(f"{source}: no audit chain head is printed on it (documents and workbooks made from a "
                             "workspace carry one; files made by `clearrec documents` without a workspace do not)")
    entries = ws.audit_entries()
    by_hash = {e["hash"]: e for e in entries}
    for head in heads:
        e = by_hash.get(head)
        if e is not None:
            later = len(entries) - e["seq"]
            return True, (f"{source}: its audit chain head {head[:16]}... is entry {e['seq']} of {len(entries)} in this "
                          f"workspace's history ({e['action']}, {e['at']}); {later} entr{'y' if later == 1 else 'ies'} "
                          "recorded since: the history still contains it")
    return False, (f"{source}: its audit chain head {heads[0][:16]}... is NOT in this workspace's history: the history "
                   "was rewritten after it was printed, or it was made from another workspace")
