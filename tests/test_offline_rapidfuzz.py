"""rapidfuzz (name similarity for reconciliation) stays offline: importing and using it opens
no socket and resolves no host (issue 15; engineering-notes.md, "Offline means offline")."""

from __future__ import annotations

import subprocess
import sys

_PROBE = r"""
import sys
events = []
sys.addaudithook(lambda e, a: events.append(e) if e.startswith(("socket.", "urllib.", "http.")) else None)
import rapidfuzz, rapidfuzz.process, rapidfuzz.distance, rapidfuzz.fuzz
from clearrec_desktop.core.reconcile.keys import name_similarity
assert name_similarity("ALVAREZ,MARIA L", "MARIA ALVARES") > 0.8
rapidfuzz.process.extract("ALVAREZ", ["ALVARES", "NGUYEN"], scorer=rapidfuzz.fuzz.WRatio, limit=1)
from rapidfuzz.distance import OSA, JaroWinkler
OSA.distance("SMITH", "SMTIH"); JaroWinkler.similarity("SMITH", "SMYTH")
print("events:" + ",".join(sorted(set(events))))
"""


def test_rapidfuzz_opens_no_socket():
    proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "events:"


def test_rapidfuzz_under_the_guard():
    code = ("from clearrec_desktop.core import offline; offline.install_guard()\n"
            "from clearrec_desktop.core.reconcile.keys import name_similarity\n"
            "print(round(name_similarity('GARCIA-LOPEZ,ANA', 'ANA GARCIA LOPEZ'), 3))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "1.0", proc.stderr
