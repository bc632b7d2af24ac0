"""Suite-wide settings: Qt never needs a display, and no test depends on the user's files."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


# --- deeper runs and figures -------------------------------------------------------------------
# `pytest --long` raises the fuzzing example counts and the kill-loop rounds (see docs/security.md).
# Tests that measure something (inputs tried, kill rounds, peak memory) report it through the
# `figures` fixture; the lines are printed at the end of the run so they can be copied into docs.

import pytest  # noqa: E402

_FIGURES = pytest.StashKey[list]()


def pytest_addoption(parser):
    parser.addoption("--long", action="store_true", default=False,
                     help="deeper fuzzing and crash-loop runs (minutes instead of seconds)")


def pytest_configure(config):
    config.stash[_FIGURES] = []


@pytest.fixture(scope="session")
def long_run(request) -> bool:
    return bool(request.config.getoption("--long"))


@pytest.fixture(scope="session")
def figures(request):
    """figures(text): a measured figure for the end-of-run summary."""
    return request.config.stash[_FIGURES].append


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.stash.get(_FIGURES, [])
    if lines:
        terminalreporter.section("trust figures")
        for line in lines:
            terminalreporter.write_line(line)
