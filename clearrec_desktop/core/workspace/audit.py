"""The audit trail's hash chain: how an entry is hashed (documented so any tool can re-check it)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from .schema import _FORBIDDEN_DETAIL_KEYS


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"cannot store a {type(value).__name__} as JSON")


def _canonical_json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default
    )


def audit_entry_hash(
    seq: int, at: str, actor: str, action: str, details: Mapping[str, Any], prev_hash: str
) -> str:
    """SHA-256 (hex) of one audit entry.

    The hashed bytes are the UTF-8 of the compact JSON array ``[seq, at, actor, action, details,
    prev_hash]`` with object keys sorted, ``ensure_ascii=False``, separators ``,`` and ``:``.
    Documented so the chain can be re-checked by any other tool.
    """
    payload = _canonical_json([seq, at, actor, action, details, prev_hash])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _check_detail_keys(value: Any, where: str = "details") -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if not isinstance(key, str):
                raise ValueError(f"audit {where}: keys must be strings")
            if key.lower() in _FORBIDDEN_DETAIL_KEYS:
                raise ValueError(f"audit {where}: '{key}' would put personal data in the audit trail")
            _check_detail_keys(inner, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_detail_keys(item, where)
