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
    "Pseudonymiser",
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
    if all(type(v) is str for v in values):  # the usual case, without the checks below
        return [v.strip() for v in values]
    out = []
    for v in values:
        if isinstance(v, float | np.floating) and float(v).is_integer():
            out.append(str(int(v)))
        elif isinstance(v, bytes):
            out.append(v.decode("utf-8", "replace").strip())
        else:
            out.append(str(v).strip())
    return out


def _keyed(secret: bytes):
    """Text -> full hex HMAC-SHA256 under the key (RFC 2104, as ``hmac.new(secret, text,
    sha256)``). The padded key's inner and outer SHA-256 states are made once and copied for
    each id, about twice as fast per id as the hmac module, and the key itself is kept in no
    attribute."""
    block = hashlib.sha256().block_size
    k = hashlib.sha256(secret).digest() if len(secret) > block else secret
    k = k.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in k)).copy
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in k)).copy
    del k

    def digest(text: str) -> str:
        i = inner()
        i.update(text.encode("utf-8"))
        o = outer()
        o.update(i.digest())
        return o.hexdigest()

    return digest


def _id_columns(data: pd.DataFrame, columns: str | Sequence[str]) -> list:
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
    return cols


_KEY_PARAMS = {
    "key": ["path", bytes, None],
    "key_file": ["path", None],
    "length": Interval(Integral, 8, 64),
    "prefix": TEXT,
}


class Pseudonymiser:
    """One key's pseudonyms for every table of a build: each distinct id is hashed once.

    The same children appear in the referrals, every questionnaire and the surveys; calling
    one ``Pseudonymiser`` on each table remembers the pseudonyms already made, so an id met in
    an earlier table is looked up rather than hashed again. The pseudonyms are exactly those of
    :func:`pseudonymise` with the same key, ``length`` and ``prefix``. Two different ids that
    would share a pseudonym are refused across all the tables seen, not only within one.

    Example:
        >>> import pandas as pd
        >>> p = Pseudonymiser(key="a-long-secret-key-kept-elsewhere")
        >>> a = p(pd.DataFrame({"person_id": ["A1", "B2"]}), "person_id")
        >>> b = p(pd.DataFrame({"person_id": ["B2", None]}), "person_id")
        >>> b["person_id"].iloc[0] == a["person_id"].iloc[1], p.hashed
        (True, 2)
    """

    @validate_params(_KEY_PARAMS)
    def __init__(
        self,
        *,
        key: str | bytes | os.PathLike | None = None,
        key_file: str | os.PathLike | None = None,
        length: int = 16,
        prefix: str = "",
    ) -> None:
        if not isinstance(length, int) or not 8 <= length <= 64:
            raise OutcomesError(f"length must be a whole number from 8 to 64, not {length!r}")
        self._digest = _keyed(_resolve_key(key, key_file))
        self.length = length
        self.prefix = prefix
        self._pseudonym: dict[str, str] = {}  # canonical id -> pseudonym
        self._made: set[str] = set()  # every pseudonym made (collisions)

    @property
    def hashed(self) -> int:
        """How many distinct ids have been hashed so far."""
        return len(self._pseudonym)

    def __repr__(self) -> str:  # never the key
        return f"Pseudonymiser(length={self.length}, prefix={self.prefix!r}, hashed={self.hashed})"

    def _pseudonyms(self, canon: list[str]) -> list[str]:
        known, digest, prefix, length = self._pseudonym, self._digest, self.prefix, self.length
        # ids not met in an earlier table (distinct: "7" and 7.0 are one id), each hashed once
        fresh = [t for t in dict.fromkeys(canon) if t not in known]
        made = [prefix + digest(t)[:length] for t in fresh]
        # the fresh ids are distinct and new, so a pseudonym made twice or made before is a
        # collision of two different ids (checked as sets: no loop over the ids)
        new = set(made)
        if len(new) != len(made) or not self._made.isdisjoint(new):
            raise OutcomesError(
                f"two different ids share a pseudonym at length={self.length}; use a longer length"
            )
        self._made |= new
        known.update(zip(fresh, made, strict=True))
        return list(map(known.__getitem__, canon))

    @validate_params({"data": "dataframe", "columns": Columns()})
    def __call__(self, data: pd.DataFrame, columns: str | Sequence[str]) -> pd.DataFrame:
        """``data`` with the identifier ``columns`` replaced (as :func:`pseudonymise`)."""
        cols = _id_columns(data, columns)
        # Factorise the columns together (one mapping for all of them, as equal values are one
        # id), make each distinct value's pseudonym once, then gather them by the codes.
        stacked = data[cols[0]] if len(cols) == 1 else pd.concat([data[c] for c in cols])
        codes, uniques = pd.factorize(stacked, use_na_sentinel=True)
        canon = _canonical(uniques.to_numpy(dtype=object))
        made = pd.array(self._pseudonyms(canon), dtype="string")
        out = data.copy(deep=False)  # the id columns are replaced, never written into
        n = len(data)
        for i, c in enumerate(cols):
            # a missing id (code -1) stays missing
            out[c] = made.take(codes[i * n : (i + 1) * n], allow_fill=True)
        attrs = {k: v for k, v in data.attrs.items() if k != "pseudonymised"}
        attrs["pseudonymised"] = {
            "columns": [str(c) for c in cols],
            "method": "HMAC-SHA256",
            "length": self.length,
            "prefix": self.prefix,
        }
        out.attrs = attrs
        return out


@validate_params({"data": "dataframe", "columns": Columns(), **_KEY_PARAMS})
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
    _id_columns(data, columns)  # the table's problems first, as before the key is looked for
    return Pseudonymiser(key=key, key_file=key_file, length=length, prefix=prefix)(data, columns)
