"""simulate_programme: one call builds a whole synthetic programme and its ground truth."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._internal.dates import dates_or_raise
from .._internal.params import COUNT, OPTIONAL_TEXT, validate_params
from ..errors import OutcomesError
from .clinical import simulate_clinical
from .dictionary import datapackage, readme
from .itembank import PUPIL_DIMS
from .mhst import MHST_INSTRUMENTS
from .population import GEN_SD, WORSE, children_on_roll, make_pupils, make_schools
from .school_survey import (
    SURVEY_SCALES,
    anova_icc,
    expected_survey,
    simulate_primary_survey,
    simulate_survey,
)
from .service import expected_service, simulate_referrals
from .settings import SimulationParameterError, SimulationSettings, settings_from
from .staff import simulate_staff
from .truth import Truth

#: order of the random streams; append new ones at the end so old seeds keep their tables
_STREAMS = (
    "schools",
    "pupils",
    "survey",
    "referrals",
    "clinical",
    "staff",
    "truth_survey",
    "truth_clinical",
    "truth_staff",
    "clinical_item_stability",
    "truth_clinical_item_stability",
    "mhst_measures",
    "primary_survey",
)
#: instruments in ``ProgrammeData.responses``, in file order
RESPONSE_INSTRUMENTS = (
    "honosca",
    "sdq_parent",
    "gbo",
    "chi_esq_parent",
    "chi_esq_9_11",
    "chi_esq_12_18",
)
DEMO_SEED = 2026
# The demo shows the MHST measures and the primary survey (both off by default): they draw
# from their own streams, so the demo's other tables are those of the same seed without them.
DEMO_SETTINGS: dict[str, Any] = {
    "n_comparison_schools": 4,
    "mhst_measures": True,
    "primary_survey": True,
}
DEMO_COMMAND = (
    "outcomes synth --seed 2026 --comparison-schools 4 --mhst-measures --primary-survey "
    "--out synthetic_data/demo"
)
# Three years of school monitoring (synthetic_data/three_year): four survey waves, primary and
# secondary schools, comparison schools; the demo above is left exactly as it was.
THREE_YEAR_SEED = 2027
THREE_YEAR_SETTINGS: dict[str, Any] = {
    "n_schools": 12,
    "n_comparison_schools": 6,
    "survey_waves": ("baseline", "12m", "24m", "36m"),
    "primary_survey": True,
}
THREE_YEAR_COMMAND = (
    "outcomes synth --seed 2027 --schools 12 --comparison-schools 6 "
    "--waves baseline,12m,24m,36m --primary-survey --out synthetic_data/three_year"
)


@dataclass
class ProgrammeData:
    """A simulated programme: the tables of DESIGN.md's data model plus ``.truth``.

    Attributes: ``schools``, ``referrals``, ``responses`` (dict instrument id -> long
    responses table), ``school_survey``, ``staff_survey``, ``truth`` (:class:`Truth`) and the
    ``settings`` used.
    """

    schools: pd.DataFrame
    referrals: pd.DataFrame
    responses: dict[str, pd.DataFrame]
    school_survey: pd.DataFrame
    staff_survey: pd.DataFrame
    truth: Truth
    settings: dict[str, Any] = field(default_factory=dict)
    #: the Stirling scale in primary schools, when simulated (``primary_survey=True``)
    primary_survey: pd.DataFrame | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by file name: schools, referrals, school_survey, staff_survey and
        ``responses_<instrument>``."""
        out = {
            "schools": self.schools,
            "referrals": self.referrals,
            "school_survey": self.school_survey,
            "staff_survey": self.staff_survey,
        }
        if self.primary_survey is not None:
            out["primary_survey"] = self.primary_survey
        out.update({f"responses_{k}": v for k, v in self.responses.items()})
        return out

    def fingerprint(self) -> dict[str, str]:
        """SHA-256 of each table written as CSV: equal fingerprints, identical data."""
        return {name: _sha256(_csv_bytes(t)) for name, t in self.tables().items()}

    @validate_params(
        {
            "path": "path",
            "command": OPTIONAL_TEXT,
        }
    )
    def write(self, path: str | Path, *, command: str | None = None) -> Path:
        """Write every table as CSV with ``datapackage.json`` (Frictionless), a README data
        dictionary and ``truth.json``. Returns the directory."""
        out = Path(path)
        out.mkdir(parents=True, exist_ok=True)
        tables = self.tables()
        for name, t in tables.items():
            (out / f"{name}.csv").write_bytes(_csv_bytes(t))
        cmd = command or _command_for(self.truth.seed, self.settings).replace(
            "--out DIR", f"--out {path}"
        )
        pkg = datapackage(tables, settings=self.settings, seed=self.truth.seed, command=cmd)
        (out / "datapackage.json").write_text(json.dumps(pkg, indent=2) + "\n")
        (out / "truth.json").write_text(self.truth.to_json() + "\n")
        (out / "README.md").write_text(readme(pkg, tables, self.truth.summary()))
        return out

    @classmethod
    @validate_params(
        {
            "path": "path",
        }
    )
    def read(cls, path: str | Path) -> ProgrammeData:
        """Read a directory written by :meth:`write` back, with the column types restored."""
        p = Path(path)
        pkg_path = p / "datapackage.json"
        if not pkg_path.is_file():
            raise OutcomesError(f"{p}: no datapackage.json; not a directory written by .write()")
        pkg = json.loads(pkg_path.read_text())
        tables = {r["name"]: _read_resource(p, r) for r in pkg["resources"]}
        truth = Truth.from_dict(json.loads((p / "truth.json").read_text()))
        responses = {
            k.removeprefix("responses_"): v for k, v in tables.items() if k.startswith("responses_")
        }
        return cls(
            schools=tables["schools"],
            referrals=tables["referrals"],
            responses=responses,
            school_survey=tables["school_survey"],
            staff_survey=tables["staff_survey"],
            primary_survey=tables.get("primary_survey"),
            truth=truth,
            settings=pkg.get("x_outcomes", {}).get("settings", {}),
        )

    def summary(self) -> str:
        """Plain sentences describing what was simulated."""
        sch = self.schools
        prog = sch[sch["in_programme"]]
        ref = self.referrals
        n_sec = int((prog["phase"] == "secondary").sum())
        acc = ref["accepted"].mean() if len(ref) else float("nan")
        seen = ref["first_contact_date"].notna().sum()
        closed = ref["discharge_date"].notna().sum()
        waves = ", ".join(pd.unique(self.school_survey["wave"])) or "none"
        parts = [
            f"{len(prog)} programme schools ({len(prog) - n_sec} primary, {n_sec} secondary)"
            + (f" and {len(sch) - len(prog)} comparison schools" if len(sch) > len(prog) else "")
            + f"; {self.truth.children_on_roll:,} pupils on roll in programme schools.",
            f"{len(ref):,} referrals of {ref['person_id'].nunique():,} children"
            + (f", {acc:.0%} accepted" if len(ref) else "")
            + f"; {seen:,} seen and {closed:,} discharged by {self.truth.extract_date}.",
            f"School survey: {len(self.school_survey):,} responses ({waves}); staff survey: "
            f"{len(self.staff_survey):,} responses.",
        ]
        if self.primary_survey is not None:
            parts.append(f"Primary survey (Stirling): {len(self.primary_survey):,} responses.")
        mhst = [k for k in MHST_INSTRUMENTS if k in self.responses]
        if mhst:
            n = sum(len(self.responses[k]) for k in mhst)
            parts.append(f"MHST measures ({', '.join(mhst)}): {n:,} responses.")
        return " ".join(parts)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.tables().items())
        return f"ProgrammeData(seed={self.truth.seed}, {sizes})"


@validate_params(
    {
        "seed": COUNT,
        "settings": [SimulationSettings, Mapping, None],
        "kwargs": "no_validation",  # each is a SimulationSettings field, checked there
    }
)
def simulate_programme(
    seed: int = 0,
    *,
    settings: SimulationSettings | Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> ProgrammeData:
    """Simulate a school mental health programme with known ground truth.

    Parameters
    ----------
    seed
        Random seed (a non-negative whole number); the same seed and settings give
        identical tables.
    settings
        A :class:`SimulationSettings` (or mapping) to start from; keyword arguments override
        it. Every field of :class:`SimulationSettings` is accepted as a keyword, e.g.
        ``n_schools=22``, ``n_comparison_schools=4``, ``survey_waves=("baseline", "12m",
        "24m")``, ``follow_up_rate=0.55``, ``dropout="mar" | "mcar" | "mnar"``,
        ``clinical_effect=0.8``, ``truth_mc_size=20000`` (0 skips the expected values).

    Returns
    -------
    ProgrammeData with ``schools``, ``referrals``, ``responses`` (HoNOSCA, SDQ parent, GBO,
    CHI-ESQ), ``school_survey``, ``staff_survey`` and ``truth``.

    Example:
        >>> from outcomes.synthetic import simulate_programme
        >>> data = simulate_programme(seed=3, n_schools=6, truth_mc_size=0)
        >>> sorted(data.responses)[:3]
        ['chi_esq_12_18', 'chi_esq_9_11', 'chi_esq_parent']
        >>> data.referrals["referral_id"].is_unique
        True
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SimulationParameterError(f"seed={seed!r}: must be a non-negative whole number")
    s = settings_from(settings, **kwargs)
    streams = dict(
        zip(
            _STREAMS,
            (
                np.random.default_rng(c)
                for c in np.random.SeedSequence(int(seed)).spawn(len(_STREAMS))
            ),
            strict=True,
        )
    )
    schools = make_schools(s, streams["schools"])
    pupils = make_pupils(s, schools, streams["pupils"])
    survey, survey_real, survey_mech = simulate_survey(s, schools, pupils, streams["survey"])
    refs = simulate_referrals(s, schools, pupils, streams["referrals"])
    responses, clin_truth, experience, dropout = simulate_clinical(
        s,
        schools,
        pupils,
        refs,
        streams["clinical"],
        (streams["truth_clinical"], streams["truth_clinical_item_stability"]),
        streams["clinical_item_stability"],
        streams["mhst_measures"],
    )
    staff, staff_truth = simulate_staff(s, schools, streams["staff"], streams["truth_staff"])
    primary = (
        simulate_primary_survey(s, schools, pupils, streams["primary_survey"])
        if s.primary_survey
        else None
    )
    survey_truth, icc = _survey_truth(s, survey_real, streams["truth_survey"], schools, pupils)
    truth = Truth(
        seed=int(seed),
        settings=s.as_dict(),
        extract_date=s.extract_date.isoformat(),
        children_on_roll=children_on_roll(schools, pupils),
        clinical=clin_truth,
        experience=experience,
        survey=survey_truth,
        icc=icc,
        staff=staff_truth,
        service=expected_service(s),
        dropout=dropout,
        survey_follow_up=survey_mech,
    )
    return ProgrammeData(
        schools=schools.frame,
        referrals=refs.frame,
        responses={
            k: responses[k] for k in (*RESPONSE_INSTRUMENTS, *MHST_INSTRUMENTS) if k in responses
        },
        school_survey=survey,
        staff_survey=staff,
        primary_survey=primary,
        truth=truth,
        settings=s.as_dict(),
    )


def demo_programme() -> ProgrammeData:
    """The bundled demo programme (the one in synthetic_data/demo/), regenerated."""
    return simulate_programme(DEMO_SEED, **DEMO_SETTINGS)


def three_year_programme() -> ProgrammeData:
    """The three-year demo (the one in synthetic_data/three_year/), regenerated."""
    return simulate_programme(THREE_YEAR_SEED, **THREE_YEAR_SETTINGS)


def _survey_truth(s, realised: pd.DataFrame, rng, schools, pupils):
    cols = ["group", "wave", "instrument", "scale", "n", "mean", "sd", "prop_high"]
    real = realised if len(realised) else pd.DataFrame(columns=cols)
    if s.truth_mc_size and len(real):
        exp, icc = expected_survey(s, rng)
        exp = exp.rename(columns={"mean": "expected_mean", "prop_high": "expected_prop_high"}).drop(
            columns=["n", "sd"]
        )
        out = real.merge(exp, on=["group", "wave", "instrument", "scale"], how="left")
    else:
        out = real.assign(expected_mean=np.nan, expected_prop_high=np.nan)
        icc = pd.DataFrame(
            {
                "instrument": [i for i, sc in SURVEY_SCALES.items() for _ in sc],
                "scale": [x for sc in SURVEY_SCALES.values() for x in sc],
                "icc": np.nan,
                "icc_mc_se": np.nan,
            }
        )
    for c in ("mean", "expected_mean"):
        base = out[out["wave"] == "baseline"].set_index(["group", "instrument", "scale"])[c]
        key = pd.MultiIndex.from_frame(out[["group", "instrument", "scale"]])
        prefix = "" if c == "mean" else "expected_"
        out[f"{prefix}change"] = out[c].to_numpy(dtype=float) - base.reindex(key).to_numpy(
            dtype=float
        )
    tau2 = s.school_icc / (1 - s.school_icc) if s.school_icc < 1 else np.inf
    latent = {}
    for dim, w in zip(PUPIL_DIMS, WORSE, strict=True):
        latent[dim] = w**2 * tau2 / (w**2 * tau2 + 1)
    latent["total_difficulties"] = 16 * tau2 / (16 * tau2 + GEN_SD**2)
    latent["metric"] = latent["wellbeing"]
    icc["icc_latent"] = icc["scale"].map(latent)
    icc["icc_realised"] = _realised_icc(s, schools, pupils, icc)
    return out, icc


def _realised_icc(s, schools, pupils, icc: pd.DataFrame) -> np.ndarray:
    """ANOVA ICC of the complete baseline answers of everyone eligible in the simulated schools."""
    from .school_survey import _score_frames, survey_items

    elig = (
        pupils.on_roll(0) & pupils.secondary & np.isin(pupils.year_group(0), s.survey_year_groups)
    )
    idx = np.flatnonzero(elig)
    if len(np.unique(pupils.school[idx])) < 2:
        return np.full(len(icc), np.nan)
    rng = np.random.default_rng(0)  # fixed: a by-product, must not shift any other stream
    scored = _score_frames(survey_items(pupils.theta[idx, 0, :], rng))
    out = []
    for inst, scale in zip(icc["instrument"], icc["scale"], strict=True):
        out.append(anova_icc(scored[inst][scale].to_numpy(dtype=float), pupils.school[idx]))
    return np.array(out)


def _csv_bytes(t: pd.DataFrame) -> bytes:
    return t.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n").encode()


def _sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


#: on/off settings with a flag of `outcomes synth`
_FLAGS = {"mhst_measures": "--mhst-measures", "primary_survey": "--primary-survey"}


def _command_for(seed: int, settings: Mapping[str, Any]) -> str:
    defaults = SimulationSettings().as_dict()
    cli = {
        "n_schools": "--schools",
        "n_comparison_schools": "--comparison-schools",
        "survey_waves": "--waves",
        "dropout": "--dropout",
        "follow_up_rate": "--follow-up-rate",
        "truth_mc_size": "--truth-mc-size",
    }
    parts = [f"outcomes synth --seed {seed}"]
    other = {}
    for k, v in settings.items():
        if v == defaults.get(k):
            continue
        if k in _FLAGS and v is True:  # an on/off flag of `outcomes synth`
            parts.append(_FLAGS[k])
        elif k in cli:
            parts.append(f"{cli[k]} {','.join(v) if isinstance(v, list) else v}")
        else:
            other[k] = v
    parts.append("--out DIR")
    cmd = " ".join(parts)
    if other:
        args = ", ".join(f"{k}={v!r}" for k, v in other.items())
        cmd += f"  # or in Python: simulate_programme({seed}, {args}).write(DIR)"
    return cmd


_TYPES = {"integer": "Int64", "number": "float64", "boolean": "boolean", "string": "str"}


def _read_resource(root: Path, r: dict) -> pd.DataFrame:
    path = root / r["path"]
    if not path.is_file():
        raise OutcomesError(f"{path}: listed in datapackage.json but missing")
    fields = r["schema"]["fields"]
    dtypes = {f["name"]: _TYPES[f["type"]] for f in fields if f["type"] != "date"}
    dates = [f["name"] for f in fields if f["type"] == "date"]
    df = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    for c in dates:
        df[c] = dates_or_raise(df[c], column=c, where=path.name).astype("datetime64[s]")
    for f in fields:
        # columns that are never blank get plain numpy types, as simulate_programme makes them
        if f.get("constraints", {}).get("required") and f["type"] in ("integer", "boolean"):
            df[f["name"]] = df[f["name"]].astype("int64" if f["type"] == "integer" else "bool")
    return df
