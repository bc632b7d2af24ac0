"""Attorney decisions as an append-only event log (decision, undo, redo), replayed on open.

A mixin of ``Workspace``: it uses the store's connection, lock and audit append.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

import polars as pl

from ..errors import InputError
from .schema import (
    _CORRECTIONS_SCHEMA,
    _DECISION_SCHEMA,
    CHALLENGE_GROUNDS,
    CORRECTABLE_FIELDS,
    DECISIONS,
    OUTCOMES,
    NotAWorkspace,
    requires_reason,
)

log = logging.getLogger(__name__.replace('.decisions', '.store'))


class DecisionLog:
    """Record, undo and redo decisions; the effective decision per conviction."""

    def decisions_without_conviction(self, run_id: int) -> pl.DataFrame:
        """Effective decisions whose conviction_id is not in the run's results (rows as current_decisions)."""
        with self._lock:
            ids = self.load_results(run_id).select("conviction_id")
            return self.current_decisions().join(ids, on="conviction_id", how="anti").sort("conviction_id")

    # ----------------------------------------------------------------- decisions

    def _replay_decisions(self) -> None:
        undo: list[int] = []
        redo: list[int] = []
        active: dict[str, list[int]] = {}
        owner: dict[int, str] = {}
        for event_id, kind, conviction_id, target in self._db().execute(
            "SELECT event_id, kind, conviction_id, target_event_id FROM decision_events ORDER BY event_id"
        ):
            if kind == "decision":
                undo.append(event_id)
                redo.clear()
                owner[event_id] = conviction_id
                active.setdefault(conviction_id, []).append(event_id)
            elif kind == "undo" and undo and undo[-1] == target:
                undo.pop()
                redo.append(target)
                active[owner[target]].pop()
            elif kind == "redo" and redo and redo[-1] == target:
                redo.pop()
                undo.append(target)
                active[owner[target]].append(target)
            else:
                raise NotAWorkspace(
                    f"{self._path.name}: the decision log is inconsistent at event {event_id}; run an audit check"
                )
        self._undo_stack, self._redo_stack, self._active, self._event_conviction = undo, redo, active, owner
        # Decisions recorded together (a bulk accept) are listed by one "decision_batch" audit
        # entry; undo and redo move them as one.
        self._batches = {}
        for (details,) in self._db().execute("SELECT details FROM audit WHERE action = 'decision_batch'"):
            ids = tuple(int(i) for i in json.loads(details).get("event_ids", []))
            for event_id in ids:
                self._batches[event_id] = ids

    def _proposed_outcome(self, conviction_id: str) -> str | None:
        """The latest run's outcome for a conviction (cached per run)."""
        latest = self._db().execute("SELECT MAX(run_id) FROM runs").fetchone()[0]
        if latest is None:
            return None
        if self._proposals is None or self._proposals[0] != latest:
            self._proposals = (latest, self.load_results(latest).select("conviction_id", "outcome"))
        hit = self._proposals[1].filter(pl.col("conviction_id") == conviction_id)
        return hit.item(0, "outcome") if hit.height else None

    def _check_decision(self, conviction_id: Any, decision: str, reason: Any, ground: Any, notes: Any,
                        proposed: str | None) -> tuple[str | None, str | None]:
        """Validate what does not need the database; returns the cleaned (reason, notes)."""
        if not isinstance(conviction_id, str) or not conviction_id.strip():
            raise InputError("a decision needs the conviction it applies to")
        if decision not in DECISIONS:
            raise InputError(f"unknown decision '{decision}'; expected one of {', '.join(DECISIONS)}")
        reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
        notes = notes.strip() if isinstance(notes, str) and notes.strip() else None
        if decision == "challenge":
            if ground not in CHALLENGE_GROUNDS:
                raise InputError(
                    f"conviction {conviction_id}: a challenge needs a ground: {' or '.join(CHALLENGE_GROUNDS)}"
                )
        elif ground is not None:
            raise InputError(f"conviction {conviction_id}: a ground is only given with a challenge")
        if proposed is not None and proposed not in OUTCOMES:
            raise InputError(f"unknown proposed outcome '{proposed}'; expected one of {', '.join(OUTCOMES)}")
        return reason, notes

    def _insert_decision(self, conn: Any, conviction_id: str, decision: str, *, reason: str | None,
                         ground: str | None, notes: str | None, proposed: str | None, who: str,
                         at: str, fixes: list[dict[str, str]] | None = None) -> int:
        """Insert one decision event and its audit entry; inside a write transaction."""
        if proposed is None:
            proposed = self._proposed_outcome(conviction_id)
        if decision == "accept" and proposed in (None, "review"):
            raise InputError(
                f"conviction {conviction_id}: nothing to accept;"
                + (" the engine proposes attorney review: choose dismiss, reduce, challenge or defer"
                   if proposed == "review" else " it has no proposed outcome in the latest run")
            )
        departs = requires_reason(decision, proposed)
        if departs and reason is None:
            raise InputError(
                f"conviction {conviction_id}: a reason is required when the decision ({decision}) "
                f"departs from the proposed outcome ({proposed or 'none'})"
            )
        event_id = conn.execute(
            "INSERT INTO decision_events (at, kind, conviction_id, decision, proposed, reason, ground,"
            " notes, reviewer) VALUES (?, 'decision', ?, ?, ?, ?, ?, ?, ?)",
            (at, conviction_id, decision, proposed, reason, ground, notes, who),
        ).lastrowid
        if fixes:
            # created in this transaction the first time (executescript would commit it)
            for statement in _CORRECTIONS_SCHEMA.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.executemany(
                "INSERT INTO decision_corrections (event_id, field, value, source) VALUES (?, ?, ?, ?)",
                [(event_id, f["field"], f["value"], f["source"]) for f in fixes],
            )
        self._append_audit(
            "decision",
            {
                "event_id": event_id,
                "conviction": self.ref(conviction_id),  # opaque: the trail names no person
                "decision": decision,
                "proposed": proposed,
                "ground": ground,
                "departs": departs,
                "has_reason": reason is not None,
                "has_notes": notes is not None,
                "reviewer": who,
                **({"corrected": [f["field"] for f in fixes]} if fixes else {}),
            },
            at=at,
        )
        return event_id

    def _push_decision(self, event_id: int, conviction_id: str) -> None:
        self._undo_stack.append(event_id)
        self._redo_stack.clear()
        self._event_conviction[event_id] = conviction_id
        self._active.setdefault(conviction_id, []).append(event_id)

    def record_decision(
        self,
        conviction_id: str,
        decision: str,
        *,
        reason: str | None = None,
        ground: str | None = None,
        notes: str | None = None,
        proposed: str | None = None,
        reviewer: str | None = None,
        corrections: list[dict[str, str]] | None = None,
    ) -> int:
        """Record an attorney decision; committed to disk before this returns. Returns the event id.

        ``proposed`` is the engine's outcome; when omitted it is taken from the latest run.
        A reason is required whenever the decision departs from the proposal.
        ``corrections``: facts of the record the court sees, as the attorney found them
        (``{"field": one of CORRECTABLE_FIELDS, "value": ..., "source": where it was seen}``);
        documents print them, the imported record is kept as it was.
        """
        fixes = _check_corrections(conviction_id, corrections)
        reason, notes = self._check_decision(conviction_id, decision, reason, ground, notes, proposed)
        reviewer = reviewer.strip() if isinstance(reviewer, str) and reviewer.strip() else None
        with self._lock:  # commit and derived state move together
            with self._write() as conn:
                event_id = self._insert_decision(conn, conviction_id, decision, reason=reason, ground=ground,
                                                 notes=notes, proposed=proposed, who=reviewer or self.reviewer(),
                                                 at=self._now(), fixes=fixes)
            # Committed: now move the derived state.
            self._push_decision(event_id, conviction_id)
        log.debug("decision event %d recorded", event_id)
        return event_id

    def record_decisions(
        self,
        items: list[tuple[str, str | None]],
        decision: str,
        *,
        reason: str | None = None,
        notes: str | None = None,
        selection: str = "",
        reviewer: str | None = None,
    ) -> list[int]:
        """Record one decision on many convictions at once (a bulk accept), in one transaction:
        a decision event and audit entry per conviction, then one "decision_batch" audit entry
        listing them with ``selection`` (how they were chosen, e.g. the filter). Undo and redo
        treat the batch as one step. ``items``: (conviction_id, proposed outcome or None).
        All or nothing: one refused conviction records none. Returns the event ids."""
        if decision == "challenge":
            raise InputError("a challenge is decided case by case: it needs a ground for each conviction")
        if not items:
            raise InputError("no conviction chosen")
        ids = [cid for cid, _ in items]
        if len(set(ids)) != len(ids):
            raise InputError("a conviction is listed twice in one bulk decision")
        cleaned = [self._check_decision(cid, decision, reason, None, notes, proposed) for cid, proposed in items]
        reviewer = reviewer.strip() if isinstance(reviewer, str) and reviewer.strip() else None
        with self._lock:
            with self._write() as conn:
                who, at = reviewer or self.reviewer(), self._now()
                event_ids = [
                    self._insert_decision(conn, cid, decision, reason=r, ground=None, notes=n,
                                          proposed=proposed, who=who, at=at)
                    for (cid, proposed), (r, n) in zip(items, cleaned)
                ]
                if len(event_ids) > 1:
                    self._append_audit("decision_batch", {
                        "decision": decision, "count": len(event_ids), "event_ids": event_ids,
                        "convictions": [self.ref(cid) for cid in ids], "selection": str(selection or "")[:300], "reviewer": who,
                    }, at=at)
            for event_id, cid in zip(event_ids, ids):
                self._push_decision(event_id, cid)
            if len(event_ids) > 1:
                batch = tuple(event_ids)
                self._batches = {**getattr(self, "_batches", {}), **{e: batch for e in batch}}
        log.debug("%d decision events recorded in one batch", len(event_ids))
        return event_ids

    def can_undo(self) -> bool:
        with self._lock:
            return bool(self._undo_stack)

    def can_redo(self) -> bool:
        with self._lock:
            return bool(self._redo_stack)

    def _stack_step(self, kind: str) -> dict[str, Any] | None:
        """Undo or redo the top of the stack: one decision, or every decision of its batch, in
        one transaction. Each gets its own undo/redo event and audit entry (the log replays as
        it always did); the returned event is the last one, with ``conviction_ids`` listing
        every conviction touched and ``batch_size``."""
        with self._lock:
            source = self._undo_stack if kind == "undo" else self._redo_stack
            if not source:
                return None
            batch = getattr(self, "_batches", {}).get(source[-1])
            n = 1
            if batch:  # a batch sits on the stack as one contiguous run of its events
                members = set(batch)
                while n < len(source) and source[-1 - n] in members:
                    n += 1
            targets = source[-n:][::-1]
            done: list[tuple[int, int, str]] = []
            with self._write() as conn:
                who = self.reviewer()
                at = self._now()
                for target in targets:
                    conviction_id = self._event_conviction[target]
                    event_id = conn.execute(
                        "INSERT INTO decision_events (at, kind, conviction_id, reviewer, target_event_id)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (at, kind, conviction_id, who, target),
                    ).lastrowid
                    self._append_audit(
                        kind,
                        {"event_id": event_id, "target_event_id": target, "conviction": self.ref(conviction_id)},
                        at=at,
                    )
                    done.append((event_id, target, conviction_id))
            for _event_id, target, conviction_id in done:
                source.pop()
                if kind == "undo":
                    self._redo_stack.append(target)
                    self._active[conviction_id].pop()
                else:
                    self._undo_stack.append(target)
                    self._active[conviction_id].append(target)
            event_id, target, _cid = done[-1]
            event = self._event(event_id)
            event["target"] = self._event(target)
            event["conviction_ids"] = [cid for _e, _t, cid in done]
            event["batch_size"] = len(done)
            return event

    def undo(self) -> dict[str, Any] | None:
        """Withdraw the latest effective decision (workspace-wide), or the whole batch it was
        recorded in; None when there is nothing to undo.

        Returns the (last) undo event, with the withdrawn decision under ``target`` and every
        conviction touched under ``conviction_ids``.
        """
        return self._stack_step("undo")

    def redo(self) -> dict[str, Any] | None:
        """Re-apply the latest undone decision (or batch); None when there is nothing to redo."""
        return self._stack_step("redo")

    _EVENT_COLUMNS = (
        "event_id", "at", "kind", "conviction_id", "decision", "proposed", "reason", "ground", "notes",
        "reviewer", "target_event_id",
    )

    def _event(self, event_id: int) -> dict[str, Any]:
        row = self._db().execute(
            f"SELECT {', '.join(self._EVENT_COLUMNS)} FROM decision_events WHERE event_id = ?", (event_id,)
        ).fetchone()
        return self._event_dict(row)

    def _event_dict(self, row: tuple) -> dict[str, Any]:
        event = dict(zip(self._EVENT_COLUMNS, row))
        if event["kind"] == "decision":
            event["outcome"] = event["proposed"] if event["decision"] == "accept" else event["decision"]
            stack = self._active.get(event["conviction_id"])
            event["effective"] = bool(stack) and stack[-1] == event["event_id"]
        return event

    def decision_history(self, conviction_id: str) -> list[dict[str, Any]]:
        """Every decision, undo and redo event for one conviction, oldest first."""
        with self._lock:
            rows = self._db().execute(
                f"SELECT {', '.join(self._EVENT_COLUMNS)} FROM decision_events WHERE conviction_id = ?"
                " ORDER BY event_id",
                (conviction_id,),
            ).fetchall()
            return [self._event_dict(row) for row in rows]

    def decision_for(self, conviction_id: str) -> dict[str, Any] | None:
        """The effective decision event for one conviction, or None."""
        with self._lock:
            stack = self._active.get(conviction_id)
            return self._event(stack[-1]) if stack else None

    def current_decisions(self) -> pl.DataFrame:
        """One row per conviction with an effective decision (see ``_DECISION_SCHEMA``)."""
        with self._lock:
            effective = {stack[-1] for stack in self._active.values() if stack}
            rows = [
                row
                for row in self._db().execute(
                    "SELECT conviction_id, decision, proposed, reason, ground, notes, reviewer, at, event_id"
                    " FROM decision_events WHERE kind = 'decision' ORDER BY conviction_id"
                )
                if row[8] in effective
            ]
        frame = pl.DataFrame(
            rows,
            schema={k: v for k, v in _DECISION_SCHEMA.items() if k != "outcome"},
            orient="row",
        )
        outcome = pl.when(pl.col("decision") == "accept").then(pl.col("proposed")).otherwise(pl.col("decision"))
        return frame.with_columns(outcome.alias("outcome")).select(list(_DECISION_SCHEMA))

    def current_corrections(self) -> pl.DataFrame:
        """Corrections carried by the effective decisions: conviction_id, field, value, source,
        event_id (empty in a workspace that never recorded one)."""
        schema = {"conviction_id": pl.String, "field": pl.String, "value": pl.String, "source": pl.String,
                  "event_id": pl.Int64}
        with self._lock:
            has = self._db().execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'decision_corrections'").fetchone()
            if not has:
                return pl.DataFrame(schema=schema)
            effective = {stack[-1] for stack in self._active.values() if stack}
            rows = [row for row in self._db().execute(
                "SELECT e.conviction_id, c.field, c.value, c.source, c.event_id FROM decision_corrections c"
                " JOIN decision_events e ON e.event_id = c.event_id ORDER BY e.conviction_id, c.field")
                if row[4] in effective]
        return pl.DataFrame(rows, schema=schema, orient="row")

    # ----------------------------------------------------------------- notes


def _check_corrections(conviction_id: str, corrections: list[dict[str, str]] | None) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for item in corrections or []:
        field = str(item.get("field") or "").strip()
        value = str(item.get("value") or "").strip()
        source = str(item.get("source") or "").strip()
        if field not in CORRECTABLE_FIELDS:
            raise InputError(f"conviction {conviction_id}: a decision can correct {', '.join(CORRECTABLE_FIELDS)}")
        if not value or not source:
            raise InputError(f"conviction {conviction_id}: a correction of {field} needs the value and its source")
        if field == "level" and value.upper() not in ("F", "M", "I"):
            raise InputError(f"conviction {conviction_id}: a corrected level is F, M or I")
        if field == "conviction_date":
            try:
                date.fromisoformat(value)
            except ValueError:
                raise InputError(f"conviction {conviction_id}: a corrected conviction date is YYYY-MM-DD") from None
        if any(o["field"] == field for o in out):
            raise InputError(f"conviction {conviction_id}: {field} is corrected twice in one decision")
        out.append({"field": field, "value": value.upper() if field == "level" else value, "source": source})
    return out
