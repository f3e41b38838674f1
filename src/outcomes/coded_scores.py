"""Long coded-score rows (NHS MHSDS style) turned into one score-level frame per instrument.

MHSDS records a questionnaire as one row per scale score: who, which referral, when, the
SNOMED CT code of the scale (``CodedAssToolType``) and the score (``PersScore``). The bundled
instrument YAML files carry each scale's SNOMED codes (``snomed:``), so the rows can be pivoted
into frames that :func:`outcomes.score` reads with ``input="scales"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._internal.params import COLUMN, Columns, Options, validate_params
from ._internal.text import unknown as unknown_message
from .errors import DataStructureError, InstrumentDefinitionError
from .instruments import Instrument, list_instruments, load_instrument


@dataclass
class CodedScores:
    """Per-instrument frames (``frames[instrument_id]``) and the rows left out, with why."""

    frames: dict[str, pd.DataFrame]
    #: one row per left-out code: ``code``, ``rows``, ``reason``
    excluded: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["code", "rows", "reason"])
    )

    def __getitem__(self, instrument_id: str) -> pd.DataFrame:
        if instrument_id not in self.frames:
            raise KeyError(unknown_message("instrument in these rows", instrument_id, self.frames))
        return self.frames[instrument_id]

    def __iter__(self):
        return iter(self.frames)

    def __len__(self) -> int:
        return len(self.frames)


@validate_params({"instruments": [list, tuple, None]})
def snomed_index(
    instruments: Sequence[str | Instrument] | None = None,
) -> dict[str, tuple[str, str]]:
    """SNOMED CT code -> (instrument id, scale id) over the given (default: bundled)
    instruments. A code claimed by two instruments is a definition error.

    Example:
        >>> snomed_index()["720433000"]
        ('phq_9', 'total')
    """
    out: dict[str, tuple[str, str]] = {}
    for ref in instruments if instruments is not None else list_instruments():
        inst = load_instrument(ref)
        for sc in inst.scales:
            for code in sc.snomed:
                if code in out and out[code] != (inst.id, sc.id):
                    raise InstrumentDefinitionError(
                        f"SNOMED code {code} is given to {out[code]} and to {(inst.id, sc.id)}"
                    )
                out[code] = (inst.id, sc.id)
    return out


def _code_text(values: pd.Series) -> pd.Series:
    """Codes as text: 718659007, 718659007.0 and " 718659007 " are the same code."""

    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float | np.floating) and float(v).is_integer():
            return str(int(v))
        return str(v).strip()

    uniq = {v: one(v) for v in pd.unique(values.astype(object))}
    return values.astype(object).map(uniq)


@validate_params(
    {
        "rows": "dataframe",
        "code": COLUMN,
        "score": COLUMN,
        "keys": Columns(),
        "instruments": [list, tuple, None],
        "unknown": Options(str, {"raise", "drop"}),
    }
)
def pivot_coded_scores(
    rows: pd.DataFrame,
    *,
    code: str = "code",
    score: str = "score",
    keys: Sequence[str] = ("person_id", "referral_id", "date"),
    instruments: Sequence[str | Instrument] | None = None,
    unknown: str = "raise",
) -> CodedScores:
    """Pivot long rows (keys, SNOMED code, score) into one frame per instrument, with one
    column per scale id, ready for ``oc.score(frame, instrument_id, input="scales")``.

    ``unknown="raise"`` (default) refuses codes that no instrument claims; ``"drop"`` leaves
    them out and counts them in ``result.excluded``. Two rows with the same keys and code are
    refused: which score is right cannot be known.

    Example:
        >>> import pandas as pd
        >>> rows = pd.DataFrame({"person_id": ["a", "a"], "referral_id": [1, 1],
        ...     "date": ["2025-01-10"] * 2, "code": [720433000, 445455005], "score": [14, 9]})
        >>> res = pivot_coded_scores(rows)
        >>> sorted(res.frames), res["phq_9"]["total"].tolist()
        (['gad_7', 'phq_9'], [14])
    """
    if not isinstance(rows, pd.DataFrame):
        raise DataStructureError(f"expected a pandas DataFrame, got {type(rows).__name__}")
    if unknown not in ("raise", "drop"):
        raise ValueError(f"unknown must be 'raise' or 'drop', not {unknown!r}")
    keys = list(keys)
    needed = [*keys, code, score]
    absent = [c for c in needed if c not in rows.columns]
    if absent:
        raise DataStructureError(
            f"columns {absent} are not in the rows; columns present: "
            f"{[str(c) for c in rows.columns]} (name them with keys=, code=, score=)"
        )
    index = snomed_index(instruments)
    codes = _code_text(rows[code])
    known = codes.isin(list(index))
    excluded = pd.DataFrame(columns=["code", "rows", "reason"])
    if not known.all():
        counts = codes[~known].fillna("<missing>").value_counts()
        if unknown == "raise":
            first = counts.index[0]
            raise DataStructureError(
                f"{int(counts.sum())} row(s) carry codes no instrument claims: "
                f"{dict(counts.head(10))}. "
                + unknown_message("SNOMED code", first, index)
                + ". Pass unknown='drop' to leave them out (they are counted)."
            )
        excluded = pd.DataFrame(
            {
                "code": counts.index.astype(str),
                "rows": counts.to_numpy(),
                "reason": "no bundled instrument has a scale with this SNOMED code",
            }
        )
    use = rows.loc[known, keys].copy()
    pairs = codes[known].map(index)
    use["_instrument"] = pairs.str[0]
    use["_scale"] = pairs.str[1]
    use["_score"] = rows.loc[known, score]
    dup = use.duplicated(subset=[*keys, "_instrument", "_scale"], keep=False)
    if dup.any():
        shown = use.loc[dup, [*keys, "_scale"]].head(10).to_dict("records")
        raise DataStructureError(
            f"{int(dup.sum())} row(s) give the same scale twice for the same {keys}: {shown}"
        )
    frames: dict[str, pd.DataFrame] = {}
    for inst_id, part in use.groupby("_instrument", sort=True):
        wide = part.pivot(index=keys, columns="_scale", values="_score")
        order = [s.id for s in load_instrument(inst_id).scales if s.id in wide.columns]
        wide = wide[order].reset_index()
        wide.columns.name = None
        wide.attrs["instrument"] = inst_id
        frames[str(inst_id)] = wide
    return CodedScores(frames, excluded)
