"""Coverage-guided fuzzing of the importers with atheris (optional; deeper than tests/core/ingest/test_fuzz.py).

atheris is not a test dependency; install it into the venv first (wheels for Linux and macOS):

    .venv/bin/pip install atheris
    .venv/bin/python benchmarks/fuzz_atheris.py doj  -max_total_time=600 -rss_limit_mb=2048 -timeout=30
    .venv/bin/python benchmarks/fuzz_atheris.py csv  -max_total_time=600 -rss_limit_mb=2048 -timeout=30
    .venv/bin/python benchmarks/fuzz_atheris.py xlsx -max_total_time=600 -rss_limit_mb=2048 -timeout=30

The first argument picks the target: ``doj`` (DOJ extracts), ``csv`` (county CSV through the
example mapping) or ``xlsx`` (workbooks through the same mapping); the rest go to libFuzzer. A
seed corpus (a demo extract, the example county CSV, a workbook made from it) is written to
``benchmarks/fuzz-corpus/<target>`` (or into the corpus folder given, when it is empty).

The property is the test suite's: every input imports (malformed lines rejected one by one) or
raises ``InputError`` with a one-line message naming the file (or the mapping). Any other
exception is a crash that libFuzzer reports and saves (``crash-<sha1>``); ``-timeout`` catches
hangs and ``-rss_limit_mb`` memory blow-ups. Inputs are synthetic bytes written to a private
temporary folder, removed at exit.
"""

from __future__ import annotations

import atexit
import io
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["clearrec_desktop"]):
    from clearrec_desktop.core import demo, offline
    from clearrec_desktop.core.errors import InputError
    from clearrec_desktop.core.ingest import county_mapping, importer

ROOT = Path(__file__).resolve().parents[1]
MAPPING = county_mapping.load_mapping(ROOT / "resources" / "mappings" / "example-cms.toml")
SUFFIX = {"doj": ".dat", "csv": ".csv", "xlsx": ".xlsx"}


def seed_corpus(target: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        return
    if target == "doj":
        demo.write_demo_extract(folder / "demo-200.dat", 200, "SACRAMENTO", 1, traps=True)
        demo.write_demo_extract(folder / "demo-20.dat", 20, "SACRAMENTO", 2, traps=True, bom=True)
        return
    example = (ROOT / "resources" / "mappings" / "example-cms.csv").read_bytes()
    if target == "csv":
        (folder / "example.csv").write_bytes(example)
        return
    import csv

    import openpyxl

    wb = openpyxl.Workbook()
    for row in csv.reader(io.StringIO(example.decode("utf-8"))):
        wb.active.append(row)
    wb.save(folder / "example.xlsx")


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in SUFFIX:
        raise SystemExit(__doc__)
    target = sys.argv.pop(1)
    folders = [a for a in sys.argv[1:] if not a.startswith("-")]
    if not folders:
        folders = [str(ROOT / "benchmarks" / "fuzz-corpus" / target)]
        sys.argv.append(folders[0])
    seed_corpus(target, Path(folders[0]))
    offline.install_guard()
    work = Path(tempfile.mkdtemp(prefix="clearrec-fuzz-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    path = work / f"input{SUFFIX[target]}"
    mapping = None if target == "doj" else MAPPING

    def one_input(data: bytes) -> None:
        path.write_bytes(data)
        try:
            importer.import_files([path], mapping=mapping)
        except InputError as exc:
            message = str(exc)
            if "\n" in message or not (path.name in message or "column mapping" in message):
                raise AssertionError(f"unclear refusal: {message!r}") from None

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
