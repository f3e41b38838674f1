"""Pseudonymisation of identifiers with a keyed hash (HMAC-SHA256).

The same identifier always maps to the same pseudonym under the same key, so a child still links
across the referrals, scores and survey tables after every table has been pseudonymised; without
the key the pseudonyms cannot be reversed or recomputed by guessing ids (which a plain, unkeyed
hash of a short id would allow).

The key is read, in order, from the ``key=`` argument, the ``key_file=`` argument, the
``OUTCOMES_PSEUDONYM_KEY`` environment variable or the file named by
``OUTCOMES_PSEUDONYM_KEY_FILE``. It never appears in any output, attribute, repr or error message.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd

from ._internal.params import TEXT, Columns, Interval, validate_params
from .errors import DataStructureError, OutcomesError

__all__ = [
    "KEY_ENV",
    "KEY_FILE_ENV",
    "MIN_KEY_BYTES",
    "PseudonymKeyError",
    "new_key",
    "pseudonymise",
]

KEY_ENV = "OUTCOMES_PSEUDONYM_KEY"
KEY_FILE_ENV = "OUTCOMES_PSEUDONYM_KEY_FILE"
#: Shorter keys could be guessed; 16 bytes (128 bits) is the usual floor for an HMAC key.
MIN_KEY_BYTES = 16


class PseudonymKeyError(OutcomesError):
    """No usable pseudonymisation key. The message never contains the key."""


def new_key() -> str:
    """A fresh random key (64 hex characters, 256 bits) to store in a key file or secret store.

    Example:
        >>> len(new_key())
        64
    """
    return secrets.token_hex(32)


def _read_key_file(path: str | os.PathLike, where: str) -> bytes:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        # The path is not secret; the file's contents are never echoed.
        raise PseudonymKeyError(
            f"cannot read the pseudonymisation key file {where} ({p}): "
            f"{e.strerror or type(e).__name__}"
        ) from None
    # A trailing newline is an editor's, not the key's; binary keys are otherwise kept as they are.
    return raw.rstrip(b"\r\n")


def _resolve_key(key, key_file) -> bytes:
    if key is not None:
        if isinstance(key, os.PathLike):
            raw = _read_key_file(key, "given as key=")
        elif isinstance(key, str):
            raw = key.strip().encode("utf-8")
        elif isinstance(key, bytes | bytearray):
            raw = bytes(key)
        else:
            raise PseudonymKeyError(
                f"key must be text, bytes or a path to a key file, not {type(key).__name__}"
            )
        source = "the key= argument"
    elif key_file is not None:
        raw = _read_key_file(key_file, "given as key_file=")
        source = f"the key file {Path(key_file)}"
    elif os.environ.get(KEY_ENV):
        raw = os.environ[KEY_ENV].strip().encode("utf-8")
        source = f"the environment variable {KEY_ENV}"
    elif os.environ.get(KEY_FILE_ENV):
        raw = _read_key_file(os.environ[KEY_FILE_ENV], f"named by {KEY_FILE_ENV}")
        source = f"the key file named by {KEY_FILE_ENV}"
    else:
        raise PseudonymKeyError(
            "no pseudonymisation key: pass key=... or key_file=..., or set the environment "
            f"variable {KEY_ENV} (the key itself) or {KEY_FILE_ENV} (a file holding it). "
            "outcomes.privacy.new_key() makes a suitable random key; keep it out of the project "
            "folder and out of version control."
        )
    if len(raw) < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"the pseudonymisation key from {source} is too short: at least {MIN_KEY_BYTES} "
            "bytes are needed (outcomes.privacy.new_key() makes a suitable one)"
        )
    return raw


def _canonical(values: np.ndarray) -> list[str]:
    """The text each id is hashed as, so that 7, 7.0 and "7" (a float column after NaNs, or an
    id read as text in another table) link; "007" stays distinct from "7"."""
    out = []
    for v in values:
        if isinstance(v, float | np.floating) and float(v).is_integer():
            out.append(str(int(v)))
        elif isinstance(v, bytes):
            out.append(v.decode("utf-8", "replace").strip())
        else:
            out.append(str(v).strip())
    return out


@validate_params(
    {
        "data": "dataframe",
        "columns": Columns(),
        "key": ["path", bytes, None],
        "key_file": ["path", None],
        "length": Interval(Integral, 8, 64),
        "prefix": TEXT,
    }
)
def pseudonymise(
    data: pd.DataFrame,
    columns: str | Sequence[str],
    *,
    key: str | bytes | os.PathLike | None = None,
    key_file: str | os.PathLike | None = None,
    length: int = 16,
    prefix: str = "",
) -> pd.DataFrame:
    """Replace identifier columns by keyed-hash pseudonyms (HMAC-SHA256, hex).

    Parameters
    ----------
    data
        Any table.
    columns
        The identifier column(s) to replace (e.g. ``"person_id"``). All columns share one
        mapping, so a child's id gives the same pseudonym wherever it appears.
    key, key_file
        The secret key (text, bytes, or a path to a file holding it) or a key file. When both are
        None the environment is tried (``OUTCOMES_PSEUDONYM_KEY``, then
        ``OUTCOMES_PSEUDONYM_KEY_FILE``); with no key at all a :class:`PseudonymKeyError` is
        raised. Keys shorter than 16 bytes are refused. Surrounding whitespace of a text key (and a
        key file's trailing newline) is ignored; bytes keys are used as given.
    length
        Hex characters kept from the digest (8-64; 16 = 64 bits, ample for any programme).
    prefix
        Text put before every pseudonym (e.g. ``"P-"``).

    Returns
    -------
    DataFrame
        A copy with the columns replaced (string dtype); missing ids stay missing.
        ``result.attrs["pseudonymised"]`` records the columns and method (never the key).

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"person_id": ["A1", "B2", "A1"]})
    >>> out = pseudonymise(df, "person_id", key="a-long-secret-key-kept-elsewhere")
    >>> out["person_id"].nunique(), out["person_id"].iloc[0] == out["person_id"].iloc[2]
    (2, True)
    """
    if not isinstance(data, pd.DataFrame):
        raise OutcomesError(f"pseudonymise needs a DataFrame, not {type(data).__name__}")
    cols = [columns] if isinstance(columns, str) else list(columns)
    if not cols:
        raise OutcomesError("pseudonymise: name at least one column")
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataStructureError(
            f"column(s) {missing} to pseudonymise are not in the table; "
            f"columns present: {[str(c) for c in data.columns]}"
        )
    if not isinstance(length, int) or not 8 <= length <= 64:
        raise OutcomesError(f"length must be a whole number from 8 to 64, not {length!r}")
    secret = _resolve_key(key, key_file)

    # Hash each distinct id once: HMAC has no vector form, but ids repeat across rows and tables.
    stacked = pd.concat([data[c] for c in cols], ignore_index=True)
    uniques = pd.unique(stacked.dropna().to_numpy(dtype=object))
    canon = _canonical(uniques)
    digests = [
        prefix + hmac.new(secret, t.encode("utf-8"), hashlib.sha256).hexdigest()[:length]
        for t in canon
    ]
    if len(set(digests)) < len(set(canon)):
        raise OutcomesError(
            f"two different ids share a pseudonym at length={length}; use a longer length"
        )
    mapping = dict(zip(uniques, digests, strict=True))
    out = data.copy()
    for c in cols:
        mapped = data[c].map(mapping)
        out[c] = mapped.astype("string")
    attrs = {k: v for k, v in data.attrs.items() if k != "pseudonymised"}
    attrs["pseudonymised"] = {
        "columns": [str(c) for c in cols],
        "method": "HMAC-SHA256",
        "length": length,
        "prefix": prefix,
    }
    out.attrs = attrs
    return out
