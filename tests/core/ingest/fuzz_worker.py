"""Worker process for the fuzzing tests: imports (and screens) the files the parent names.

It runs apart from pytest so the parent can bound every input's time (a hang is killed, not
waited for), sees native code aborting as the worker dying instead of losing the test run, and
reads the peak memory the imports needed.

Protocol: one JSON request per line on stdin, ``{"path": ..., "mapping": {...} | null}``; one
JSON reply per line on the original stdout (anything the program prints goes to stderr):
``{"status": "ok" | "input_error" | "error", ...}`` with the rows imported, the rejected lines,
the exception type and message, the seconds taken and the process's peak memory so far.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from datetime import date

try:
    import resource
except ImportError:  # Windows
    resource = None


def peak_mb() -> float | None:
    """This process's peak resident memory. On Linux ru_maxrss carries the parent's peak over
    fork and exec (a worker started from a big pytest process would report pytest's), so the
    high-water mark of this process's own memory map (VmHWM) is read instead."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024**2 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def handle(request: dict, profile) -> dict:
    from clearrec_desktop.core import pipeline
    from clearrec_desktop.core.errors import InputError
    from clearrec_desktop.core.ingest import importer

    stage = "import"
    try:
        rows, report = importer.import_files([request["path"]], mapping=request.get("mapping"))
        out = {
            "status": "ok",
            "rows": rows.height,
            "lines": rows["source_line"].to_list(),
            "subjects": rows["subject_id"].to_list(),
            "rejected": [[r["line"], r["reason"]] for r in report.rejected],
            "lines_read": report.files[0].lines_read,
            "blank_lines": report.files[0].blank_lines,
        }
        stage = "screen"
        counties = [c for c in report.counties if c]
        if counties and request.get("screen", True):
            run = pipeline.screen_rows(rows, report, county=counties[0], as_of=date(2026, 11, 1), profile=profile)
            out["results"] = run.results.height
        return out
    except InputError as exc:
        return {"status": "input_error", "stage": stage, "message": str(exc)}
    except Exception as exc:  # what the fuzzer is looking for
        return {"status": "error", "stage": stage, "type": type(exc).__name__, "message": str(exc)[:2000],
                "traceback": traceback.format_exc()[-4000:]}


def main() -> None:
    replies = sys.stdout
    sys.stdout = sys.stderr  # the protocol owns stdout
    from clearrec_desktop.core import offline
    from clearrec_desktop.core.screen import profiles

    offline.install_guard()
    profile = profiles.load_profile()
    replies.write(json.dumps({"status": "ready", "peak_mb": peak_mb()}) + "\n")
    replies.flush()
    for line in sys.stdin:
        request = json.loads(line)
        started = time.perf_counter()
        reply = handle(request, profile)
        reply["secs"] = time.perf_counter() - started
        reply["peak_mb"] = peak_mb()
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    main()
