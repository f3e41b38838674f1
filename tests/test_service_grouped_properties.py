"""Property tests: the one-pass grouped service counts (issue 21: ``referral_counts``,
``not_accepted_reasons``, ``children_seen``, ``compare_inappropriate``, ``inappropriate_rate``,
``monthly_activity``) agree with a plain loop over groups written here, on any small messy
referrals table.

The references read the generated records (Python tuples), not the library's parsed table,
and restate the documented rules: groups sorted with a missing label as a group of its own
after the others, a ``Total`` group last; reasons compared stripped and case-insensitively,
shown in their first spelling; contacts per referral never fewer than the dates recorded;
children counted once per group; a referral waiting at the end of a month was received by
then and neither not accepted, seen, nor discharged unseen by then. Intervals and tests come from statsmodels, one group at a
time.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

from outcomes import service

DAY0 = pd.Timestamp("2024-01-01")
CHANGE = DAY0 + pd.Timedelta(days=50)
REASONS = ["Below threshold", "below threshold ", "wrong service", "", None, "Declined"]
INAPPROPRIATE = ["below threshold", "declined"]

RECORD = st.tuples(
    st.integers(0, 6),  # person
    st.sampled_from(["s1", "s2", "s3", None]),  # school (None: missing label)
    st.integers(7, 8),  # year group
    st.integers(0, 9),  # referral day x 10
    st.sampled_from(["yes", "no", None]),  # accepted (None: awaiting a decision)
    st.sampled_from(REASONS),  # reason, kept only when not accepted
    st.integers(0, 2),  # contact dates recorded
    st.one_of(st.none(), st.integers(0, 2)),  # extra contacts beyond the dates (n_contacts)
)


def _table(records, with_n_contacts: bool) -> pd.DataFrame:
    rows = []
    for i, (person, school, year, day, acc, reason, dates, extra) in enumerate(records):
        ref = DAY0 + pd.Timedelta(days=10 * day)
        rows.append(
            {
                "referral_id": i,
                "person_id": f"p{person}",
                "school": school,
                "year": year,
                "referral_date": ref,
                "accepted": acc,
                "not_accepted_reason": reason if acc == "no" else None,
                "first_contact_date": ref + pd.Timedelta(days=3) if dates >= 1 else pd.NaT,
                "second_contact_date": ref + pd.Timedelta(days=9) if dates >= 2 else pd.NaT,
                "n_contacts": dates + (extra or 0),
                "discharge_date": ref + pd.Timedelta(days=40) if extra == 2 else pd.NaT,
            }
        )
    t = pd.DataFrame(rows)
    return t if with_n_contacts else t.drop(columns="n_contacts")


def _records(t: pd.DataFrame) -> list[dict]:
    """The table's rows as dicts, every missing value as None."""
    return [{k: None if pd.isna(v) else v for k, v in r.items()} for r in t.to_dict("records")]


def _groups(t: list[dict], by: list[str], total: bool) -> list[tuple[tuple, list[dict]]]:
    """(label tuple, rows) per group in output order."""
    if not by:
        return [((), t)]
    members = defaultdict(list)
    for r in t:
        members[tuple(r[c] for c in by)].append(r)

    def order(key):
        return tuple((1, "") if v is None else (0, v) for v in key)

    out = [(k, members[k]) for k in sorted(members, key=order)]
    if total:
        out.append((("Total",) * len(by), t))
    return out


def _reason_key(r) -> str:
    text = "" if r is None else r.strip()
    return "(not recorded)" if text == "" else text


def _is_inappropriate(row, wanted) -> bool:
    if row["accepted"] != "no":
        return False
    if wanted is None:
        return True
    r = row["not_accepted_reason"]
    return r is not None and r.strip().casefold() in {w.casefold() for w in wanted}


def _wilson(k, n):
    if n == 0:
        return math.nan, math.nan
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    return (0.0 if k == 0 else lo), (1.0 if k == n else hi)


def _check(got: pd.DataFrame, want: list[dict], by: list[str]) -> None:
    assert len(got) == len(want)
    for c in by:
        assert [None if pd.isna(v) else v for v in got[c]] == [w[c] for w in want]
    for c in want[0] if want else []:
        if c in by:
            continue
        g, w = got[c].tolist(), [x[c] for x in want]
        if isinstance(w[0], str) or isinstance(w[0], bool | np.bool_):
            assert g == w, c
        else:
            np.testing.assert_allclose(
                np.array(g, float), np.array(w, float), rtol=1e-12, err_msg=c
            )


def _labels(key, by) -> dict:
    return dict(zip(by, key, strict=True))


BY = st.sampled_from([[], ["school"], ["school", "year"]])
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(RECORD, min_size=1, max_size=40), BY, st.booleans(), st.booleans())
def test_referral_counts_matches_loop(records, by, total, by_reason):
    t = _table(records, False)
    wanted = INAPPROPRIATE if by_reason else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = service.referral_counts(t, by=by or None, total=total, inappropriate=wanted)
    want = []
    for key, rows in _groups(_records(t), by, total):
        acc = sum(r["accepted"] == "yes" for r in rows)
        nacc = sum(r["accepted"] == "no" for r in rows)
        inap = sum(_is_inappropriate(r, wanted) for r in rows)
        dec = acc + nacc
        lo, hi = _wilson(inap, dec)
        want.append(
            _labels(key, by)
            | {
                "received": len(rows),
                "decided": dec,
                "accepted": acc,
                "not_accepted": nacc,
                "pending": len(rows) - dec,
                "acceptance_rate": acc / dec if dec else math.nan,
                "inappropriate": inap,
                "inappropriate_rate": inap / dec if dec else math.nan,
                "inappropriate_ci_low": lo,
                "inappropriate_ci_high": hi,
            }
        )
    _check(got, want, by)


@SETTINGS
@given(st.lists(RECORD, min_size=1, max_size=40), BY, st.booleans(), st.booleans())
def test_not_accepted_reasons_matches_loop(records, by, total, by_reason):
    t = _table(records, False)
    wanted = INAPPROPRIATE if by_reason else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = service.not_accepted_reasons(t, by=by or None, total=total, inappropriate=wanted)
    spelling: dict[str, str] = {}
    for r in t["not_accepted_reason"].astype(object).where(t["not_accepted_reason"].notna(), None):
        spelling.setdefault(_reason_key(r).casefold(), _reason_key(r))
    want = []
    for key, rows in _groups(_records(t), by, total):
        counts: dict[str, int] = defaultdict(int)
        inap: dict[str, bool] = defaultdict(bool)
        na = [r for r in rows if r["accepted"] == "no"]
        for r in na:
            reason = spelling[_reason_key(r["not_accepted_reason"]).casefold()]
            counts[reason] += 1
            inap[reason] |= _is_inappropriate(r, wanted)
        for reason in sorted(counts, key=lambda r: (-counts[r], r)):
            want.append(
                _labels(key, by)
                | {
                    "reason": reason,
                    "n": counts[reason],
                    "share_of_not_accepted": counts[reason] / len(na),
                    "share_of_received": counts[reason] / len(rows),
                    "inappropriate": inap[reason],
                }
            )
    _check(got, want, by)


@SETTINGS
@given(st.lists(RECORD, min_size=1, max_size=40), BY, st.booleans(), st.booleans())
def test_children_seen_matches_loop(records, by, total, with_n_contacts):
    t = _table(records, with_n_contacts)
    got = service.children_seen(t, by=by or None, total=total)
    want = []
    for key, rows in _groups(_records(t), by, total):
        seen1, seen2 = set(), set()
        for r in rows:
            dates = (r["first_contact_date"] is not None) + (r["second_contact_date"] is not None)
            contacts = max(dates, r["n_contacts"]) if with_n_contacts else dates
            if contacts >= 1:
                seen1.add(r["person_id"])
            if contacts >= 2:
                seen2.add(r["person_id"])
        want.append(
            _labels(key, by)
            | {
                "referrals": len(rows),
                "children_referred": len({r["person_id"] for r in rows}),
                "children_seen_1plus": len(seen1),
                "children_seen_2plus": len(seen2),
            }
        )
    _check(got, want, by)


@SETTINGS
@given(st.lists(RECORD, min_size=1, max_size=40), BY, st.booleans(), st.booleans())
def test_compare_inappropriate_matches_loop(records, by, total, by_reason):
    t = _table(records, False)
    wanted = INAPPROPRIATE if by_reason else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = service.compare_inappropriate(
            t, change_date=CHANGE, by=by or None, total=total, inappropriate=wanted
        ).to_frame()
    want = []
    for key, rows in _groups(_records(t), by, total):
        row = _labels(key, by)
        nk = {}
        for side in ("before", "after"):
            mine = [r for r in rows if (r["referral_date"] >= CHANGE) == (side == "after")]
            n = sum(r["accepted"] is not None for r in mine)
            k = sum(_is_inappropriate(r, wanted) for r in mine)
            lo, hi = _wilson(k, n)
            nk[side] = (n, k)
            row |= {
                f"n_{side}": n,
                f"inappropriate_{side}": k,
                f"rate_{side}": k / n if n else math.nan,
                f"rate_{side}_ci_low": lo,
                f"rate_{side}_ci_high": hi,
            }
        (n0, k0), (n1, k1) = nk["before"], nk["after"]
        if n0 and n1:
            lo, hi = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff")
            z, p = proportions_ztest([k1, k0], [n1, n0]) if 0 < k0 + k1 < n0 + n1 else (0.0, 1.0)
            row |= {"difference": k1 / n1 - k0 / n0, "difference_ci_low": lo}
            row |= {"difference_ci_high": hi, "z": z, "p": p}
        else:
            row |= dict.fromkeys(
                ["difference", "difference_ci_low", "difference_ci_high"], math.nan
            )
            row |= {"z": math.nan, "p": math.nan}
        want.append(row)
    _check(got, want, by)
    assert list(got.columns) == by + [c for c in want[0] if c not in by]


def _month(d) -> pd.Period:
    return pd.Timestamp(d).to_period("M")


def _months(rows: list[dict], last=None) -> list[pd.Period]:
    start = min(_month(r["referral_date"]) for r in rows)
    end = _month(last) if last is not None else max(_month(r["referral_date"]) for r in rows)
    return list(pd.period_range(start, end, freq="M"))


@SETTINGS
@given(st.lists(RECORD, min_size=1, max_size=40), BY, st.booleans())
def test_inappropriate_rate_matches_loop(records, by, by_reason):
    t = _table(records, False)
    wanted = INAPPROPRIATE if by_reason else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = service.inappropriate_rate(t, by=by or None, inappropriate=wanted)
    recs = _records(t)
    months = _months(recs)
    want = []
    for key, rows in _groups(recs, by, False):
        for m in months:
            mine = [r for r in rows if _month(r["referral_date"]) == m]
            n = sum(r["accepted"] is not None for r in mine)
            k = sum(_is_inappropriate(r, wanted) for r in mine)
            lo, hi = _wilson(k, n)
            want.append(
                _labels(key, by)
                | {"period": m.strftime("%Y-%m"), "decided": n, "inappropriate": k}
                | {"rate": k / n if n else math.nan, "ci_low": lo, "ci_high": hi}
            )
    _check(got, want, by)


@SETTINGS
@given(st.lists(RECORD, min_size=1, max_size=40), BY, st.booleans(), st.booleans())
def test_monthly_activity_matches_loop(records, by, by_reason, with_as_of):
    t = _table(records, False)
    wanted = INAPPROPRIATE if by_reason else None
    as_of = DAY0 + pd.Timedelta(days=200) if with_as_of else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = service.monthly_activity(t, by=by or None, inappropriate=wanted, as_of=as_of)
    recs = _records(t)
    dates = ["referral_date", "first_contact_date", "second_contact_date", "discharge_date"]
    last = as_of if with_as_of else max(r[c] for r in recs for c in dates if r[c] is not None)
    months = _months(recs, last)

    def by_month(rows, col, m):
        return sum(r[col] is not None and _month(r[col]) == m for r in rows)

    def upto(d, m):
        return d is not None and _month(d) <= m

    want = []
    for key, rows in _groups(recs, by, False):
        earliest: dict = {}
        for r in rows:
            if r["first_contact_date"] is not None:
                p = r["person_id"]
                earliest[p] = min(earliest.get(p, r["first_contact_date"]), r["first_contact_date"])
        for m in months:
            in_month = [r for r in rows if _month(r["referral_date"]) == m]
            waiting = sum(
                r["accepted"] != "no"
                and upto(r["referral_date"], m)
                and not upto(r["first_contact_date"], m)
                and not (r["first_contact_date"] is None and upto(r["discharge_date"], m))
                for r in rows
            )
            want.append(
                _labels(key, by)
                | {
                    "period": m.strftime("%Y-%m"),
                    "received": len(in_month),
                    "accepted": sum(r["accepted"] == "yes" for r in in_month),
                    "not_accepted": sum(r["accepted"] == "no" for r in in_month),
                    "inappropriate": sum(_is_inappropriate(r, wanted) for r in in_month),
                    "first_contacts": by_month(rows, "first_contact_date", m),
                    "second_contacts": by_month(rows, "second_contact_date", m),
                    "discharges": by_month(rows, "discharge_date", m),
                    "children_first_seen": sum(_month(d) == m for d in earliest.values()),
                    "waiting_at_end": waiting,
                }
            )
    _check(got, want, by)
