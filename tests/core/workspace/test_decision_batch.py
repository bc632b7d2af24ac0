"""A bulk decision (issue 19.3): one transaction, an audit entry per case plus one listing them,
undone and redone as one step, and still one step after the workspace is reopened."""

from __future__ import annotations

import pytest
from test_workspace import PASS, FakeClock, _add_run

from clearrec_desktop.core.errors import InputError
from clearrec_desktop.core.workspace.schema import requires_reason
from clearrec_desktop.core.workspace.store import Workspace


@pytest.fixture
def ws(tmp_path):
    workspace = Workspace.create(tmp_path / "w.clearrec", PASS, county="SACRAMENTO", clock=FakeClock())
    _add_run(workspace, {"A": "dismiss", "B": "reduce", "C": "dismiss", "D": "review", "E": "dismiss"})
    yield workspace
    if not workspace.closed:
        workspace.close()


def test_batch_records_each_case_and_one_listing(ws):
    ws.record_decision("E", "accept")
    ids = ws.record_decisions([("A", None), ("B", None), ("C", None)], "accept",
                              selection="Outcome: Dismiss and seal")
    assert len(ids) == 3
    current = ws.current_decisions()
    assert set(current.get_column("conviction_id")) == {"A", "B", "C", "E"}
    assert dict(zip(current["conviction_id"], current["outcome"]))["B"] == "reduce"
    per_case = [e for e in ws.audit_entries("decision")]
    assert [e["details"]["conviction"] for e in per_case] == [ws.ref(c) for c in ("E", "A", "B", "C")]
    (batch,) = ws.audit_entries("decision_batch")
    assert batch["details"]["count"] == 3 and batch["details"]["event_ids"] == ids
    assert batch["details"]["convictions"] == [ws.ref(c) for c in ("A", "B", "C")]  # opaque refs, no ids
    assert batch["details"]["selection"] == "Outcome: Dismiss and seal"
    assert ws.verify_audit()[0]


def test_batch_is_all_or_nothing(ws):
    with pytest.raises(InputError, match="nothing to accept"):
        ws.record_decisions([("A", None), ("D", None)], "accept")  # D proposes attorney review
    assert ws.current_decisions().height == 0
    with pytest.raises(InputError, match="twice"):
        ws.record_decisions([("A", None), ("A", None)], "accept")
    with pytest.raises(InputError, match="case by case"):
        ws.record_decisions([("A", None)], "challenge")
    assert not ws.audit_entries("decision")


def test_undo_and_redo_move_the_batch_as_one_even_after_reopening(ws, tmp_path):
    ws.record_decision("E", "accept")
    ws.record_decisions([("A", None), ("B", None), ("C", None)], "accept", selection="all shown")
    event = ws.undo()
    assert event["batch_size"] == 3 and sorted(event["conviction_ids"]) == ["A", "B", "C"]
    assert set(ws.current_decisions().get_column("conviction_id")) == {"E"}
    event = ws.redo()
    assert event["batch_size"] == 3
    assert ws.current_decisions().height == 4
    path = ws.path
    ws.close()
    with Workspace.open(path, PASS) as again:
        event = again.undo()  # the batch is still one step after the log is replayed
        assert event["batch_size"] == 3
        assert set(again.current_decisions().get_column("conviction_id")) == {"E"}
        event = again.undo()  # then the single decision before it
        assert event["batch_size"] == 1 and event["conviction_id"] == "E"
        assert again.undo() is None
        assert again.redo()["conviction_id"] == "E"
        assert again.redo()["batch_size"] == 3
        assert again.verify_audit()[0]


def test_forged_batch_entry_is_refused(ws):
    with pytest.raises(ValueError, match="recorded by the workspace itself"):
        ws.log_event("decision_batch", {"event_ids": [1, 2]})


def test_defer_needs_no_reason_other_departures_do():
    assert not requires_reason("defer", "dismiss") and not requires_reason("accept", "dismiss")
    assert requires_reason("dismiss", "reduce") and requires_reason("challenge", "ineligible")
    assert not requires_reason("reduce", "reduce")
