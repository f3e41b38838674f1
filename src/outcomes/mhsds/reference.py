"""NHS England's reference facts for the CYP outcomes metric (MHS110-MHS115), and the
per-convention scale table the relational method joins to.

Facts transcribed from NHSDigital/mental-health-monthly-statistics at commit 7b4d742
(specs/mhsds.md, Appendix A and section 3). ``nhs_measures.csv`` is NHS's selection of
scales (``cyp_outcomes_ass``): code, NHS's scale key, rater, valid range, threshold and
direction. Which instrument scale a code belongs to is *not* restated here: that lives in the
instrument YAML (``snomed:``) and is read through :func:`outcomes.coded_scores.snomed_index`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

from .._internal.params import Options, validate_params
from .._internal.text import unknown

CONVENTIONS = ("clinical", "nhs")

EXCLUDED_TEAM_TYPES = ("B02", "E01", "E02", "E03", "E04", "A14")
ATTENDED = ("5", "6")
DIRECT_MECHANISMS = ("01", "02", "04", "11")
# Anonymous digital providers count written mechanisms too (GEN l.139-215).
DIGITAL_PROVIDERS = ("DFC", "S9X2N")
DIGITAL_MECHANISMS = ("05", "09", "10", "13")
EARLIEST_REFERRAL = "2016-01-01"
AGE_BANDS = ((0, 5, "0 to 5"), (6, 10, "6 to 10"), (11, 14, "11 to 14"), (15, 15, "15"))
AGE_BANDS = (*AGE_BANDS, (16, 16, "16"), (17, 17, "17"))
GENDER = {
    "1": "Male",
    "2": "Female",
    "3": "Non-binary",
    "4": "Other (not listed)",
    "9": "Indeterminate",
}
UPPER_ETHNICITY = {
    **dict.fromkeys("ABC", "White or White British"),
    **dict.fromkeys("DEFG", "Mixed"),
    **dict.fromkeys("HJKL", "Asian or Asian British"),
    **dict.fromkeys("MNP", "Black or Black British"),
    **dict.fromkeys("RS", "Other Ethnic Groups"),
    "Z": "Not Stated",
    "99": "Not Known",
}
IMD_DECILE = {
    1: "01 Most deprived",
    **{d: f"{d:02d} More deprived" for d in range(2, 6)},
    **{d: f"{d:02d} Less deprived" for d in range(6, 10)},
    10: "10 Least deprived",
}
# 01-16 and 18-31: 17 has no row in NHS's lookup (PREP l.35-37), so it is UNKNOWN (quirk Q11).
REFERRAL_REASONS = tuple(f"{i:02d}" for i in [*range(1, 17), *range(18, 32)])

# by= key -> NHS breakdown label (section 3.11)
BREAKDOWNS = {
    "england": "England",
    "provider": "Provider",
    "icb": "ICB of GP Practice or Residence",
    "region": "Commissioning Region",
    "age_band": "England; Age Band",
    "gender": "England; Gender",
    "ethnicity": "England; Upper Ethnicity",
    "imd_decile": "England; IMD Decile",
    "referral_reason": "England; Primary reason for referral",
    "team_type": "England; Service or Team Type Referred To",
}
# Only these are suppressed when NHS publishes (3.12); the England ones are not.
SUPPRESSED_BREAKDOWNS = ("provider", "icb", "region")
RATERS = ("self", "parent", "clinician", "any")


def check_convention(convention: str) -> str:
    if convention not in CONVENTIONS:
        raise ValueError(unknown("convention", convention, CONVENTIONS))
    return convention


@cache
def nhs_measures() -> pd.DataFrame:
    """NHS's 106 metric codes (80 scales) with rater, range, threshold and direction.

    Example:
        >>> m = nhs_measures()
        >>> len(m), m["nhs_scale"].nunique()
        (106, 80)
    """
    with resources.files(__package__).joinpath("nhs_measures.csv").open() as fh:
        m = pd.read_csv(fh, dtype={"code": str, "nhs_scale": str, "tool": str, "rater": str})
    return m


@validate_params({"convention": Options(str, {"clinical", "nhs"})})
@cache
def scale_table(convention: str = "nhs") -> pd.DataFrame:
    """One row per metric code: ``code, nhs_scale, instrument, scale, rater, min, max,
    threshold, higher_is_better`` under the convention.

    ``nhs`` keeps NHS's rater and direction (every SDQ scale higher = worse, SCORE-15 higher
    = better, GBO self, HoNOSCA-SR scale 1 parent). ``clinical`` takes both from the
    instrument YAML where the code is mapped there (the generic GBO goal code is not, and
    keeps NHS's, which agree with GBO's YAML anyway). Thresholds, ranges and pairing keys are
    NHS's under both.

    Example:
        >>> t = scale_table("clinical").set_index("nhs_scale")
        >>> bool(t.loc["sdq_p_prosocial", "higher_is_better"])
        True
        >>> bool(scale_table("nhs").set_index("nhs_scale").loc["sdq_p_prosocial", "higher_is_better"])
        False
    """
    from ..coded_scores import snomed_index
    from ..instruments import load_instrument

    check_convention(convention)
    m = nhs_measures().copy()
    index = snomed_index()
    m["instrument"] = m["code"].map(lambda c: index.get(c, (None, None))[0])
    m["scale"] = m["code"].map(lambda c: index.get(c, (None, None))[1])
    if convention == "clinical":
        for i, row in m.iterrows():
            if not isinstance(row["instrument"], str):
                continue
            inst = load_instrument(row["instrument"])
            sc = next(s for s in inst.scales if s.id == row["scale"])
            m.at[i, "rater"] = inst.respondent
            if sc.higher_is_better is not None:
                m.at[i, "higher_is_better"] = bool(sc.higher_is_better)
    m["higher_is_better"] = m["higher_is_better"].astype(bool)
    for c in ("min", "max", "threshold"):
        m[c] = m[c].astype("float64")
    return m[
        [
            "code",
            "nhs_scale",
            "instrument",
            "scale",
            "rater",
            "min",
            "max",
            "threshold",
            "higher_is_better",
        ]
    ]


@cache
def rcads_norms() -> pd.DataFrame:
    """RCADS norms per NHS scale key, sex (M/F) and single year of age 8-17, read from the
    T-score scales of the RCADS YAML files (method ``norm``).

    Example:
        >>> n = rcads_norms()
        >>> len(n)
        240
        >>> n.query("nhs_scale == 'rcads_s_separation' and sex == 'M' and age == 9")[["mean", "sd"]].values.tolist()
        [[4.87, 3.93]]
    """
    from ..instruments import load_instrument

    codes = scale_table("nhs")
    key = {(r.instrument, r.scale): r.nhs_scale for r in codes.itertuples()}
    rows = []
    for inst_id in ("rcads_47_self", "rcads_47_parent"):
        inst = load_instrument(inst_id)
        for sc in inst.scales:
            if sc.method != "norm" or (inst_id, sc.source_scale) not in key:
                continue
            for nr in sc.norm_rows:
                kv = nr.key_values()
                lo, hi = kv["age"]
                for age in range(int(lo), int(hi) + 1):
                    rows.append(
                        {
                            "nhs_scale": key[(inst_id, sc.source_scale)],
                            "sex": str(kv["sex"]).upper(),
                            "age": age,
                            "mean": float(nr.mean),
                            "sd": float(nr.sd),
                        }
                    )
    return pd.DataFrame(rows, columns=["nhs_scale", "sex", "age", "mean", "sd"])
