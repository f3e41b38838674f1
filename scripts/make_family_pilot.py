"""Regenerate synthetic_data/family_pilot: a 12-month family-support pilot delivered through
four children's centres (about 140 families), with no schools.

    python scripts/make_family_pilot.py

It is the school programme simulator (``outcomes.synthetic.simulate_programme``) at the size
of a pilot, with its four "schools" read as children's centres (``site_id`` CC01-CC04) and the
school-only parts (school and staff surveys, school roll, free school meals, SEN and year
group) left out. The same command writes the same files, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

from outcomes.synthetic import simulate_programme

OUT = Path(__file__).resolve().parents[1] / "synthetic_data" / "family_pilot"
#: the settings of the pilot (4 sites of 200 children, a referral rate giving ~140 families)
SETTINGS = dict(seed=140, n_schools=4, secondary_share=0.0, pupils_per_primary=200,
                referral_rate=0.16, n_comparison_schools=0, truth_mc_size=0)  # fmt: skip
SCHOOL_ONLY_COLUMNS = ["fsm", "sen", "year_group"]


def main(out: Path = OUT) -> None:
    data = simulate_programme(**SETTINGS)
    out.mkdir(parents=True, exist_ok=True)
    ref = _as_sites(data.referrals.drop(columns=SCHOOL_ONLY_COLUMNS))
    ref["team"] = ref["team"].str.replace("MHST", "Family support team", regex=False)
    ref.to_csv(out / "referrals.csv", index=False, date_format="%Y-%m-%d")
    for inst, t in data.responses.items():
        if len(t):
            _as_sites(t).to_csv(out / f"responses_{inst}.csv", index=False, date_format="%Y-%m-%d")


def _as_sites(t):
    """The simulator's schools as children's centres: school_id SCH01 -> site_id CC01."""
    if "school_id" not in t.columns:
        return t
    t = t.rename(columns={"school_id": "site_id"})
    t["site_id"] = t["site_id"].str.replace("SCH", "CC", regex=False)
    return t


if __name__ == "__main__":
    main()
