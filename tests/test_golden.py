"""Results are identical before and after the streaming import (issue 14).

The golden snapshots in tests/data/golden/ were written by the pipeline as it was before the
change (see snapshot.py there): the `clearrec screen` folder, every shipped profile's results,
and the workspace the desktop app builds (imports, runs, a re-screen, the run loaded back, a
what-if). Each case runs here through the current code, once as the app runs it and once with
tiny read blocks and many screening partitions, so the block and partition seams are crossed
hundreds of times.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "data" / "golden"
_spec = importlib.util.spec_from_file_location("golden_snapshot", GOLDEN / "snapshot.py")
snapshot = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(snapshot)


# Written since the snapshots (issue 13): the screening folder's manifest and the digests that
# bind stored tables to the audit trail. Additions, not changes: any other new key still fails.
_ADDED_SINCE = {"/screen_folder/summary.json/files", "rows_sha256", "results_sha256", "summary_sha256"}


def _added_since(where: str, key: str) -> bool:
    return f"{where}/{key}" in _ADDED_SINCE or ("/audit[" in where and key in _ADDED_SINCE)


def _legacy_person_ids(monkeypatch) -> None:
    """The snapshots were written when a county file's name + date-of-birth ids were a plain
    hash (issue 13.6 keyed them with a secret, so they differ from run to run): the pipeline is
    compared here with the ids it had then."""
    import hashlib

    from clearrec_desktop.core.ingest import county_files

    monkeypatch.setattr(county_files, "_hash_key", lambda key: None if key is None else
                        "N" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:15].upper())


def _differences(expected, actual, where: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for k in sorted(set(expected) | set(actual)):
            if k not in actual:
                out.append(f"{where}/{k}: missing")
            elif k not in expected:
                if not _added_since(where, k):
                    out.append(f"{where}/{k}: unexpected")
            else:
                out += _differences(expected[k], actual[k], f"{where}/{k}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in _differences(e, a, f"{where}[{i}]")]
    return [] if expected == actual else [f"{where}: {str(expected)[:120]!r} != {str(actual)[:120]!r}"]


@pytest.mark.parametrize("case", snapshot.CASES, ids=[c[0] for c in snapshot.CASES])
@pytest.mark.parametrize("seams", ["as-shipped", "tiny-blocks"])
def test_results_identical_to_the_pipeline_before_streaming(case, seams, tmp_path, monkeypatch):
    if seams == "tiny-blocks":
        from clearrec_desktop.core.ingest import doj
        from clearrec_desktop.core.screen import screening

        monkeypatch.setattr(doj, "BLOCK_BYTES", 40_000)
        from clearrec_desktop.core.screen import facts

        monkeypatch.setattr(facts, "PARTITION_ROWS", 60)
    _legacy_person_ids(monkeypatch)
    expected = json.loads(snapshot.golden_path(case[0]).read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(snapshot.snapshot(case, tmp_path), sort_keys=True))
    diffs = _differences(expected, actual)
    assert not diffs, f"{len(diffs)} difference(s):\n" + "\n".join(diffs[:40])
