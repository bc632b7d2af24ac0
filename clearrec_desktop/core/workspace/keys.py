"""Passphrases (Unicode form, strength) and the workspace's opaque ids for the audit trail.

Key derivation is SQLCipher 4's default, documented in docs/security.md: the passphrase, NFC
normalised and UTF-8 encoded, goes through PBKDF2-HMAC-SHA512 (256,000 iterations) with the
16-byte random salt stored at the start of the file; each page is AES-256-CBC with its own IV
and an HMAC-SHA512 over the page.

Opaque ids: every workspace holds a random 256-bit secret (``meta.id_key``, inside the
encryption). The audit trail names a conviction (or a reconciliation link key) only by
``HMAC-SHA256(id_key, kind + ":" + value)`` cut to 96 bits, so the trail names no person and
an id cannot be recomputed by guessing a name, a date of birth, a CII number or a case number
without the secret. The workspace maps them back for its own views.
"""

from __future__ import annotations

import hmac
import hashlib
import secrets
import unicodedata
from typing import Any

from ..errors import InputError

MIN_PASSPHRASE_LENGTH = 8
# zxcvbn scores 0-4; 3 means about 10^8 guesses or more ("safely unguessable" for an offline
# attack on a slow key derivation such as SQLCipher's 256,000 PBKDF2 rounds).
MIN_PASSPHRASE_SCORE = 3
_REF_HEX = 24  # 96 bits


def normalise_passphrase(passphrase: str) -> str:
    """The form the key is derived from: Unicode NFC, so "é" typed as one code point or as
    "e" + combining accent (macOS, some input methods) opens the same workspace."""
    return unicodedata.normalize("NFC", passphrase)


def passphrase_candidates(passphrase: str) -> list[str]:
    """The forms tried when opening, NFC first. Workspaces created before passphrases were
    normalised were keyed with the passphrase exactly as typed; a passphrase with accents was
    then most likely typed decomposed (NFD) or composed (NFC), so the typed form and NFD are
    tried after NFC. A passphrase without such characters has a single form (one attempt)."""
    out: list[str] = []
    for form in (normalise_passphrase(passphrase), passphrase, unicodedata.normalize("NFD", passphrase)):
        if form not in out:
            out.append(form)
    return out


def passphrase_problem(passphrase: Any, *, context: tuple[str, ...] = ()) -> str | None:
    """Why a new workspace passphrase is refused (with advice), or None when it will do.

    Strength is estimated offline with zxcvbn (its word lists ship inside the package; it opens
    no connection: tests/test_offline.py). ``context`` lists words an attacker would try first
    (the county, the file name)."""
    if not isinstance(passphrase, str) or not passphrase:
        return "a workspace passphrase is required"
    if "\x00" in passphrase:
        return "the passphrase cannot contain a NUL character"
    text = normalise_passphrase(passphrase)
    if len(text) < MIN_PASSPHRASE_LENGTH:
        return f"the workspace passphrase must be at least {MIN_PASSPHRASE_LENGTH} characters"
    if not text.strip():
        return "the passphrase cannot be only spaces; use four or more unrelated words"
    score, warning = _strength(text, context)
    if score >= MIN_PASSPHRASE_SCORE:
        return None
    why = f" ({warning.rstrip('.')})" if warning else ""
    return (f"this passphrase is too easy to guess{why}; use four or more unrelated words, or a longer "
            "phrase with a number or symbol in it, and avoid names, dates and the county's name")


def passphrase_strength(passphrase: str, *, context: tuple[str, ...] = ()) -> int:
    """zxcvbn's score, 0 (guessed at once) to 4 (very strong), for a strength meter."""
    if not passphrase:
        return 0
    return _strength(normalise_passphrase(passphrase), context)[0]


def _strength(text: str, context: tuple[str, ...]) -> tuple[int, str]:
    from zxcvbn import zxcvbn

    words = ["clearrec", "workspace", "passphrase", "password", "prop64", "cannabis", "district", "attorney"]
    words += [w for c in context if c for w in str(c).replace("_", " ").replace("-", " ").split() if w]
    # zxcvbn's cost grows with length; past 100 characters the phrase is strong anyway.
    result = zxcvbn(text[:100], user_inputs=words)
    return int(result["score"]), str(result["feedback"].get("warning") or "")


def new_id_key() -> str:
    return secrets.token_hex(32)


def opaque_ref(id_key: str, kind: str, value: str) -> str:
    """The id the audit trail uses for ``value`` (a conviction id, a link key): keyed, not
    reversible, the same for the same value in the same workspace."""
    digest = hmac.new(bytes.fromhex(id_key), f"{kind}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:_REF_HEX]


def derived_key(id_key: str, purpose: str) -> str:
    """A 256-bit key for one purpose, derived from the workspace's secret (hex)."""
    return hmac.new(bytes.fromhex(id_key), purpose.encode("utf-8"), hashlib.sha256).hexdigest()


def check_new_passphrase(passphrase: Any, *, context: tuple[str, ...] = ()) -> str:
    problem = passphrase_problem(passphrase, context=context)
    if problem:
        raise InputError(problem)
    return normalise_passphrase(passphrase)
