"""Properties of read_export over generated answers: codes survive whichever way they are
written, and every row read is either kept or dropped with a reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import outcomes as oc
import outcomes.forms as forms

INSTRUMENTS = ["chi_esq_parent", "honosca", "workforce_confidence", "sdq_teacher"]


@st.composite
def answers(draw):
    instrument = draw(st.sampled_from(INSTRUMENTS))
    inst = oc.load_instrument(instrument)
    n = draw(st.integers(1, 12))
    cols = {}
    for it in inst.coded_items:
        rs = inst.response_sets[it.response_set]
        pool = [float(c) for c in (*rs.valid_codes, *rs.missing_codes)] + [np.nan]
        cols[it.id] = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    return instrument, pd.DataFrame(cols)


def _spell(label: str, style: int) -> str:
    return [label, label.upper(), f"  {label.lower()} ", label.replace(" ", "  ")][style]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=answers(), how=st.sampled_from(["codes", "labels"]), style=st.integers(0, 3))
def test_codes_survive_and_rows_reconcile(data, how: str, style: int) -> None:
    instrument, codes = data
    inst = oc.load_instrument(instrument)
    raw = {}
    for it in inst.coded_items:
        rs = inst.response_sets[it.response_set]
        lab = {float(o.code): o.label for o in (*rs.options, *rs.missing)}
        col = codes[it.id]
        if how == "codes":
            raw[f"{instrument}_{it.id}"] = col.map(lambda v: "" if np.isnan(v) else f"{v:g}")
        else:
            raw[f"{instrument}_{it.id}"] = col.map(
                lambda v, lab=lab: "" if np.isnan(v) else _spell(lab[v], style)
            )
    df, rep = forms.read_export(pd.DataFrame(raw), instrument, return_report=True)
    empty = codes.isna().all(axis=1)
    assert rep.n_rows_read == len(codes) == len(df) + len(rep.dropped)
    assert rep.dropped["row"].tolist() == codes.index[empty].tolist()
    pd.testing.assert_frame_equal(
        df[codes.columns], codes[~empty], check_dtype=False, check_index_type=False
    )
    assert rep.issues.empty
