#!/usr/bin/env bash
# Build the frozen one-folder program on Linux with PyInstaller (installer/clearrec.spec), then
# smoke-test the FROZEN executables with installer/smoke_frozen.py: the desktop app's
# --self-test (offscreen) and the clearrec command line on the bundled demo data. Any non-zero
# exit or any output on stderr from the frozen program fails the build; none is expected.
#
#   bash installer/build_frozen.sh               install the pinned PyInstaller, build, test
#   bash installer/build_frozen.sh --no-install  build and test with the PyInstaller already installed
#
# The Python environment is $CLEARREC_BUILD_VENV (default .venv); when it does not exist it is
# created and the project installed from installer/constraints.txt. Installing is the only step
# that needs the network (the package registry); the build and the tests run inside an empty
# network namespace (unshare -n) where the machine allows it.
# Result: dist/clearrec-desktop/ ("ClearRec Desktop", "clearrec", _internal/); PyInstaller's work
# files and log are in build/. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

install=1
case "${1:-}" in
    --no-install) install=0 ;;
    "") ;;
    *) echo "usage: $0 [--no-install]" >&2; exit 2 ;;
esac

venv="${CLEARREC_BUILD_VENV:-.venv}"
py="$venv/bin/python"
dist="dist/clearrec-desktop"
log="build/pyinstaller.log"

if [ "$install" = 1 ]; then
    if [ ! -x "$py" ]; then
        echo "frozen: creating $venv and installing the project from installer/constraints.txt"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q -c installer/constraints.txt -e .
    fi
    echo "frozen: installing the pinned PyInstaller (installer/constraints.txt)"
    if ! "$venv/bin/pip" install -q -c installer/constraints.txt pyinstaller; then
        echo "frozen: FAILED: PyInstaller could not be installed" >&2
        exit 1
    fi
fi
if ! "$py" -m PyInstaller --version >/dev/null 2>&1; then
    echo "frozen: FAILED: PyInstaller is not installed in $venv (run without --no-install)" >&2
    exit 1
fi

# Nothing below may need the network: prove it where the machine lets us.
if unshare -n true 2>/dev/null; then
    offline=(unshare -n)
    where="inside an empty network namespace (unshare -n)"
else
    offline=()
    where="with the network present (unshare -n is not permitted here)"
fi

echo "frozen: building $dist with PyInstaller $("$py" -m PyInstaller --version) $where"
mkdir -p build
start=$(date +%s%N)
if ! "${offline[@]}" "$py" -m PyInstaller --noconfirm --clean --log-level WARN \
        --distpath dist --workpath build installer/clearrec.spec >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "frozen: FAILED: PyInstaller did not build (full log: $log)" >&2
    exit 1
fi
end=$(date +%s%N)
# Warnings are printed, not fatal: on a machine without GTK, PyInstaller cannot resolve the
# optional GTK platform theme's libraries, which the program never needs offscreen.
grep -E "WARNING|ERROR" "$log" | sed 's/^/  pyinstaller: /' || true
echo "frozen: built in $(( (end - start) / 1000000000 )) s; $dist is $(du -sh "$dist" | cut -f1)"

echo "frozen: smoke-testing the frozen program $where"
"${offline[@]}" "$py" installer/smoke_frozen.py "$dist"
