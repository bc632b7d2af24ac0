"""Errors a user can cause. Messages name files and lines, never a person's data."""


class InputError(Exception):
    """Unusable input or request: the message is shown to the user as one line."""


class Cancelled(Exception):
    """The user cancelled a long operation; nothing partial was kept."""


def safe_details(exc: BaseException) -> str:
    """A traceback for an unexpected error without the exception messages, which can quote the
    data being processed (a library's parse error shows the offending field): only where it
    happened and what type of error, so it can be copied into a bug report."""
    import traceback

    lines = []
    for e in _chain(exc):
        lines.append(f"{type(e).__module__}.{type(e).__qualname__} (message withheld: it may quote record data)")
        lines += [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in traceback.extract_tb(e.__traceback__)]
    return "\n".join(lines)


def _chain(exc: BaseException) -> list[BaseException]:
    out, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        out.insert(0, exc)
        exc = exc.__cause__ or exc.__context__
    return out
