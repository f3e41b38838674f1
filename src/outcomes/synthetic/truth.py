"""The ground truth of a simulated programme: what a correct analysis should recover.

Two kinds of number are kept side by side wherever both make sense:

- **realised** (columns without a prefix): computed from the complete data of *this*
  simulated programme before any follow-up is lost and before any item is left blank, e.g.
  the mean change of every child in the cohort, whether or not their discharge measure was
  collected. An analysis of the observed data estimates this; the gap is the bias of the
  method under the chosen missing-data mechanism plus sampling error.
- **expected** (``expected_`` prefix): the value under the generating model itself, by Monte
  Carlo over ``truth_mc_size`` fresh draws (common random numbers across waves, so changes
  carry little Monte Carlo error). Use these when many seeds are averaged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._internal.params import TEXT, Options, renamed_params, validate_params

_FRAMES = ("clinical", "experience", "survey", "icc", "staff")


@dataclass
class Truth:
    """Data-generating values and the estimands they imply (see the module docstring).

    Attributes
    ----------
    clinical
        One row per (instrument, scale) of HoNOSCA, SDQ parent and GBO: ``n`` children in the
        truth cohort (referrals closed by the extract after two or more contacts; for goals 2
        and 3 only children with that many goals), ``mean_pre``, ``mean_post``,
        ``mean_change`` (post - pre), ``sd_change``, ``prop_reliable_improvement`` and
        ``prop_reliable_deterioration`` (threshold in the instrument YAML, >=), and the
        ``expected_`` counterparts.
    experience
        CHI-ESQ scale means had every child in the cohort answered.
    survey
        School survey by group (programme / comparison), wave and scale: realised means of
        all pupils on roll in the surveyed year groups, ``prop_high`` (share in the "high" or
        "very high" SDQ bands), expected means, and ``change`` / ``expected_change`` from
        baseline.
    icc
        Intraclass correlation by survey scale: ``icc_latent`` (generating value on the
        latent scale, given demographics), ``icc`` (expected ICC of the scored outcome,
        Monte Carlo over many schools, with ``icc_mc_se``) and ``icc_realised`` (ANOVA
        estimate from the complete baseline data of the simulated schools).
    staff
        WCS-10 confidence (1-5) and overall (0-10) means by group and wave, for all staff,
        with changes from baseline (realised and expected).
    service
        Waiting-time and acceptance parameters at the start and end of the period.
    dropout
        Follow-up mechanism of the clinical measures and its fitted intercept.
    survey_follow_up
        The same for pupils answering a repeat of the school survey.
    """

    seed: int
    settings: dict[str, Any]
    extract_date: str
    children_on_roll: int
    clinical: pd.DataFrame
    experience: pd.DataFrame
    survey: pd.DataFrame
    icc: pd.DataFrame
    staff: pd.DataFrame
    service: dict[str, Any] = field(default_factory=dict)
    dropout: dict[str, Any] = field(default_factory=dict)
    survey_follow_up: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------------------ lookups
    @validate_params(
        {
            "instrument": TEXT,
            "scale": TEXT,
            "expected": "boolean",
        }
    )
    def change(self, instrument: str, scale: str, *, expected: bool = False) -> float:
        """True mean change (post - pre) of a clinical scale.

        Example:
            >>> from outcomes.synthetic import simulate_programme
            >>> t = simulate_programme(seed=1, n_schools=4, truth_mc_size=0).truth
            >>> t.change("honosca", "total") < 0   # children improve: HoNOSCA falls
            True
        """
        row = self._row(self.clinical, instrument=instrument, scale=scale)
        return float(row["expected_mean_change" if expected else "mean_change"])

    @validate_params(
        {
            "instrument": TEXT,
            "scale": TEXT,
            "expected": "boolean",
        }
    )
    def reliable_improvement(self, instrument: str, scale: str, *, expected: bool = False) -> float:
        """True share of the cohort with a reliable improvement on a clinical scale."""
        row = self._row(self.clinical, instrument=instrument, scale=scale)
        col = "prop_reliable_improvement"
        return float(row[f"expected_{col}" if expected else col])

    @renamed_params(wave="followup")
    @validate_params(
        {
            "instrument": TEXT,
            "scale": TEXT,
            "followup": TEXT,
            "group": TEXT,
            "expected": "boolean",
        }
    )
    def survey_change(
        self,
        instrument: str,
        scale: str,
        *,
        followup: str = "12m",
        group: str = "programme",
        expected: bool = False,
    ) -> float:
        """True change in a survey scale's population mean from baseline to wave ``followup``."""
        row = self._row(self.survey, instrument=instrument, scale=scale, wave=followup, group=group)
        return float(row["expected_change" if expected else "change"])

    @renamed_params(wave="followup")
    @validate_params(
        {
            "followup": TEXT,
            "group": TEXT,
            "expected": "boolean",
        }
    )
    def staff_change(
        self, *, followup: str = "12m", group: str = "programme", expected: bool = False
    ) -> float:
        """True change in mean WCS-10 confidence (1-5) from baseline to wave ``followup``."""
        row = self._row(self.staff, wave=followup, group=group)
        return float(row["expected_change_confidence" if expected else "change_confidence"])

    @validate_params(
        {
            "instrument": TEXT,
            "scale": TEXT,
            "kind": Options(str, {"icc", "icc_latent", "icc_realised"}),
        }
    )
    def icc_of(self, instrument: str, scale: str, *, kind: str = "icc") -> float:
        """ICC of a survey scale: ``kind`` is 'icc', 'icc_latent' or 'icc_realised'."""
        return float(self._row(self.icc, instrument=instrument, scale=scale)[kind])

    @staticmethod
    def _row(frame: pd.DataFrame, **keys: str) -> pd.Series:
        m = np.ones(len(frame), dtype=bool)
        for k, v in keys.items():
            m &= (frame[k] == v).to_numpy()
        if m.sum() != 1:
            known = frame[list(keys)].drop_duplicates().to_dict("records")
            from ..errors import OutcomesError

            raise OutcomesError(f"no single truth row for {keys}; available: {known}")
        return frame[m].iloc[0]

    # ------------------------------------------------------------------------------ output
    def to_frame(self) -> pd.DataFrame:
        """Every number in one long table: section, instrument, scale, group, wave,
        quantity, value."""
        parts = []
        keys = ["instrument", "scale", "group", "wave"]
        for name in _FRAMES:
            f = getattr(self, name)
            if f is None or f.empty:
                continue
            idx = [k for k in keys if k in f.columns]
            num = [c for c in f.columns if c not in idx and pd.api.types.is_numeric_dtype(f[c])]
            long = f.melt(id_vars=idx, value_vars=num, var_name="quantity", value_name="value")
            long.insert(0, "section", name)
            parts.append(long)
        for name in ("service", "dropout", "survey_follow_up"):
            d = getattr(self, name)
            rows = [
                {"section": name, "quantity": k, "value": float(v)}
                for k, v in d.items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            ]
            if rows:
                parts.append(pd.DataFrame(rows))
        out = pd.concat(parts, ignore_index=True)
        for k in keys:
            if k not in out:
                out[k] = None
        return out[["section", *keys, "quantity", "value"]]

    def summary(self) -> str:
        """A few sentences stating the main true values."""
        bits = [
            f"Simulated programme (seed {self.seed}), data extracted {self.extract_date}; "
            f"{self.children_on_roll:,} pupils on roll in programme schools."
        ]
        cl = self.clinical
        if len(cl) and int(cl["n"].max()) > 0:
            ho = self.change("honosca", "total")
            sdq = self.change("sdq_parent", "total_difficulties")
            ri = self.reliable_improvement("sdq_parent", "emotional")
            bits.append(
                f"True mean change among children discharged after two or more contacts: "
                f"HoNOSCA total {ho:+.2f}, SDQ parent total difficulties {sdq:+.2f}; "
                f"{ri:.0%} reliably improved on SDQ emotional problems."
            )
        else:
            bits.append("No child completed an episode, so clinical change is undefined.")
        bits.append(
            f"Follow-up measures are missing {self.dropout.get('mechanism', '?').upper()} "
            f"({self.dropout.get('depends_on', '')}), target completion "
            f"{self.dropout.get('follow_up_rate', float('nan')):.0%}."
        )
        if not self.survey.empty and "12m" in set(self.survey["wave"]):
            ch = self.survey_change("sdq_self", "total_difficulties")
            bits.append(f"School survey SDQ total difficulties changes by {ch:+.2f} at 12 months.")
        if not self.staff.empty and "12m" in set(self.staff["wave"]):
            bits.append(f"Staff confidence (1-5) changes by {self.staff_change():+.2f}.")
        if not self.icc.empty:
            bits.append(
                f"ICC of the survey SDQ total: {self.icc_of('sdq_self', 'total_difficulties'):.3f}."
            )
        return " ".join(bits)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (tables as lists of records; NaN as null)."""
        out: dict[str, Any] = {
            "seed": self.seed,
            "extract_date": self.extract_date,
            "children_on_roll": self.children_on_roll,
            "settings": self.settings,
            "service": self.service,
            "dropout": self.dropout,
            "survey_follow_up": self.survey_follow_up,
        }
        for name in _FRAMES:
            out[name] = _records(getattr(self, name))
        return _clean(out)

    @validate_params(
        {
            "kw": "no_validation",  # json.dumps options, checked by json
        }
    )
    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), indent=kw.pop("indent", 2), **kw)

    @classmethod
    @validate_params(
        {
            "d": Mapping,
        }
    )
    def from_dict(cls, d: dict[str, Any]) -> Truth:
        frames = {name: pd.DataFrame(d.get(name) or []) for name in _FRAMES}
        for f in frames.values():
            for c in f.columns:
                if (
                    f[c].dtype == object
                    and f[c].map(lambda v: v is None or isinstance(v, float | int)).all()
                ):
                    f[c] = pd.to_numeric(f[c], errors="coerce")
        return cls(
            seed=d["seed"],
            settings=d.get("settings", {}),
            extract_date=d["extract_date"],
            children_on_roll=d.get("children_on_roll", 0),
            service=d.get("service", {}),
            dropout=d.get("dropout", {}),
            survey_follow_up=d.get("survey_follow_up", {}),
            **frames,
        )

    def __repr__(self) -> str:
        return f"Truth(seed={self.seed}, extract_date={self.extract_date!r})"


def _records(f: pd.DataFrame | None) -> list[dict]:
    if f is None or f.empty:
        return []
    return f.astype(object).where(f.notna(), None).to_dict("records")


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        f = float(v)
        return f if math.isfinite(f) else None
    return v
