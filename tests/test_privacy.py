"""Pseudonymisation: keyed hash (HMAC-SHA256), linkage across tables, and the key kept secret."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import outcomes as oc
from outcomes import privacy
from outcomes.privacy import PseudonymKeyError, pseudonymise

KEY = "correct-horse-battery-staple-0123456789"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    monkeypatch.delenv(privacy.KEY_FILE_ENV, raising=False)


def test_rfc4231_test_case_1():
    # RFC 4231 section 4.2: key = 0x0b * 20, data = "Hi There" ->
    # b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7
    out = pseudonymise(pd.DataFrame({"id": ["Hi There"]}), "id", key=b"\x0b" * 20, length=64)
    assert out["id"].iloc[0] == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"


def test_matches_stdlib_hmac_truncated():
    out = pseudonymise(pd.DataFrame({"person_id": ["C0001"]}), "person_id", key=KEY)
    expected = hmac.new(KEY.encode(), b"C0001", hashlib.sha256).hexdigest()[:16]
    assert out["person_id"].iloc[0] == expected


def test_same_child_links_across_tables_whatever_the_dtype():
    referrals = pd.DataFrame({"person_id": [101, 102, 103]})  # integers
    scores = pd.DataFrame({"person_id": ["103", " 101", None]})  # text, a stray space, missing
    survey = pd.DataFrame({"person_id": [101.0, np.nan]})  # float after a NaN
    a = pseudonymise(referrals, "person_id", key=KEY)["person_id"]
    b = pseudonymise(scores, "person_id", key=KEY)["person_id"]
    c = pseudonymise(survey, "person_id", key=KEY)["person_id"]
    assert b.iloc[0] == a.iloc[2] and b.iloc[1] == a.iloc[0] and c.iloc[0] == a.iloc[0]
    assert pd.isna(b.iloc[2]) and pd.isna(c.iloc[1])
    assert a.nunique() == 3


def test_leading_zeros_are_part_of_the_id():
    out = pseudonymise(pd.DataFrame({"id": ["007", "7"]}), "id", key=KEY)
    assert out["id"].iloc[0] != out["id"].iloc[1]


def test_several_columns_share_one_mapping_and_other_columns_untouched():
    df = pd.DataFrame({"child": ["a", "b"], "sibling": ["b", "a"], "score": [3, 4]})
    out = pseudonymise(df, ["child", "sibling"], key=KEY, prefix="P-", length=10)
    assert out["child"].iloc[0] == out["sibling"].iloc[1]
    assert out["child"].str.startswith("P-").all() and out["child"].str.len().eq(12).all()
    assert out["score"].tolist() == [3, 4]
    assert df["child"].tolist() == ["a", "b"]  # input untouched
    assert out.attrs["pseudonymised"]["columns"] == ["child", "sibling"]


def test_different_keys_give_different_pseudonyms():
    df = pd.DataFrame({"id": ["x"]})
    assert (
        pseudonymise(df, "id", key=KEY)["id"].iloc[0]
        != pseudonymise(df, "id", key=KEY + "!")["id"].iloc[0]
    )


def test_key_from_environment_and_files(tmp_path, monkeypatch):
    df = pd.DataFrame({"id": ["x", "y"]})
    ref = pseudonymise(df, "id", key=KEY)
    monkeypatch.setenv(privacy.KEY_ENV, KEY)
    pd.testing.assert_frame_equal(pseudonymise(df, "id"), ref)
    monkeypatch.delenv(privacy.KEY_ENV)
    f = tmp_path / "pseudonym.key"
    f.write_text(KEY + "\n")  # an editor's trailing newline is not part of the key
    pd.testing.assert_frame_equal(pseudonymise(df, "id", key_file=f), ref)
    pd.testing.assert_frame_equal(pseudonymise(df, "id", key=f), ref)
    monkeypatch.setenv(privacy.KEY_FILE_ENV, str(f))
    pd.testing.assert_frame_equal(pseudonymise(df, "id"), ref)


def test_no_key_is_a_clear_error():
    with pytest.raises(PseudonymKeyError, match="no pseudonymisation key") as e:
        pseudonymise(pd.DataFrame({"id": ["x"]}), "id")
    assert privacy.KEY_ENV in str(e.value) and isinstance(e.value, oc.OutcomesError)


@pytest.mark.parametrize("bad", ["short-key", b"", "   "])
def test_short_key_refused_without_echoing_it(bad):
    with pytest.raises(PseudonymKeyError, match="too short") as e:
        pseudonymise(pd.DataFrame({"id": ["x"]}), "id", key=bad)
    if isinstance(bad, str) and bad.strip():
        assert bad not in str(e.value)


def test_unreadable_key_file_and_wrong_key_type(tmp_path):
    with pytest.raises(PseudonymKeyError, match="cannot read"):
        pseudonymise(pd.DataFrame({"id": ["x"]}), "id", key_file=tmp_path / "missing.key")
    with pytest.raises(oc.OutcomesError, match="parameter 'key'.*int"):
        pseudonymise(pd.DataFrame({"id": ["x"]}), "id", key=12345678901234567890)


def test_key_never_appears_in_output(tmp_path):
    df = pd.DataFrame({"person_id": ["a", "b"], "note": ["n1", "n2"]})
    out = pseudonymise(df, "person_id", key=KEY)
    text = out.to_csv() + repr(out) + str(out.attrs) + out.to_json()
    assert KEY not in text
    assert hmac.new(b"", KEY.encode(), hashlib.sha256).hexdigest() not in text
    with pytest.raises(oc.OutcomesError) as e:
        pseudonymise(df, "missing", key=KEY)
    assert KEY not in str(e.value) and KEY not in repr(e.value)


def test_bad_arguments():
    df = pd.DataFrame({"id": ["x"]})
    with pytest.raises(oc.DataStructureError, match="not in the table"):
        pseudonymise(df, ["id", "nope"], key=KEY)
    with pytest.raises(oc.OutcomesError, match="length"):
        pseudonymise(df, "id", key=KEY, length=4)
    with pytest.raises(oc.OutcomesError, match="parameter 'columns'"):
        pseudonymise(df, [], key=KEY)
    with pytest.raises(oc.OutcomesError, match="DataFrame"):
        pseudonymise(["x"], "id", key=KEY)


def test_collisions_are_detected(monkeypatch):
    # Force every digest to share its first 16 characters: two ids, one pseudonym -> refused.
    monkeypatch.setattr(privacy, "_keyed", lambda secret: lambda text: "0" * 64)
    with pytest.raises(oc.OutcomesError, match="longer length"):
        pseudonymise(pd.DataFrame({"id": ["a", "b"]}), "id", key=KEY)
    # the same id twice is not a collision
    assert pseudonymise(pd.DataFrame({"id": ["a", "a"]}), "id", key=KEY)["id"].nunique() == 1


def test_new_key_is_random_and_long_enough():
    a, b = privacy.new_key(), privacy.new_key()
    assert a != b and len(a.encode()) >= privacy.MIN_KEY_BYTES


def test_cli_command(tmp_path):
    app = typer.Typer()
    from outcomes.cli.privacy import pseudonymise_cmd

    app.command()(pseudonymise_cmd)
    src = tmp_path / "in.csv"
    pd.DataFrame({"person_id": ["001", "002"], "x": [1, 2]}).to_csv(src, index=False)
    keyf = tmp_path / "k.key"
    keyf.write_text(KEY)
    out = tmp_path / "out.csv"
    res = CliRunner().invoke(
        app, [str(src), "--output", str(out), "--column", "person_id", "--key-file", str(keyf)]
    )
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out, dtype=str)
    assert (
        got["person_id"].tolist()
        == pseudonymise(pd.DataFrame({"person_id": ["001", "002"]}), "person_id", key=KEY)[
            "person_id"
        ].tolist()
    )
    res = CliRunner().invoke(app, [str(src), "--output", str(out), "--column", "person_id"])
    assert res.exit_code == 1 and "no pseudonymisation key" in res.output


# --- one Pseudonymiser for all the tables of a build: identical pseudonyms, each id hashed once


def _old_pseudonymise(data, cols, key, length=16, prefix=""):
    """The pseudonymisation as it was before ids were shared across tables (per table: distinct
    values, canonical text, one HMAC each, mapped back), kept here as the reference."""
    stacked = pd.concat([data[c] for c in cols], ignore_index=True)
    uniques = pd.unique(stacked.dropna().to_numpy(dtype=object))
    canon = privacy._canonical(uniques)
    digests = [
        prefix + hmac.new(key.encode(), t.encode("utf-8"), hashlib.sha256).hexdigest()[:length]
        for t in canon
    ]
    mapping = dict(zip(uniques, digests, strict=True))
    out = data.copy()
    for c in cols:
        out[c] = data[c].map(mapping).astype("string")
    return out


def _crafted_tables():
    return {
        "ints": (
            pd.DataFrame({"person_id": [101, 102, 101, 103], "x": [1, 2, 3, 4]}),
            ["person_id"],
        ),
        "text": (
            pd.DataFrame({"person_id": ["103", " 101", None, "007", "7", "101 "]}),
            ["person_id"],
        ),
        "arrow_text": (
            pd.DataFrame({"person_id": pd.array(["7", None, "A1", "A1"], dtype="string")}),
            ["person_id"],
        ),
        "floats_after_nan": (pd.DataFrame({"person_id": [101.0, np.nan, 7.0, 2.5]}), ["person_id"]),
        "nullable_int": (
            pd.DataFrame({"person_id": pd.array([7, None, 102], dtype="Int64")}),
            ["person_id"],
        ),
        "mixed_object": (
            pd.DataFrame({"person_id": pd.Series([7, "7", 7.0, None, pd.NA, b"A1"], dtype=object)}),
            ["person_id"],
        ),
        "categorical": (
            pd.DataFrame({"person_id": pd.Categorical(["A1", "B2", None, "A1"])}),
            ["person_id"],
        ),
        "two_columns": (
            pd.DataFrame(
                {"person_id": ["A1", "B2", None], "referral_id": [5, 6, 7]},
                index=[10, 10, 3],  # a duplicated, unordered index
            ),
            ["person_id", "referral_id"],
        ),
        "all_missing": (pd.DataFrame({"person_id": [None, None]}, dtype=object), ["person_id"]),
    }


@pytest.mark.parametrize("length,prefix", [(16, ""), (8, "P-"), (64, "")])
def test_shared_pseudonymiser_gives_the_old_pseudonyms_on_crafted_tables(length, prefix):
    shared = privacy.Pseudonymiser(key=KEY, length=length, prefix=prefix)
    for name, (df, cols) in _crafted_tables().items():
        expected = _old_pseudonymise(df, cols, KEY, length, prefix)
        for got in (
            shared(df, cols),
            pseudonymise(df, cols, key=KEY, length=length, prefix=prefix),
        ):
            pd.testing.assert_frame_equal(got, expected, obj=name)


def test_shared_pseudonymiser_hashes_each_distinct_id_once(monkeypatch):
    hashed = []
    real = privacy._keyed

    def counting(secret):
        digest = real(secret)
        return lambda text: hashed.append(text) or digest(text)

    monkeypatch.setattr(privacy, "_keyed", counting)
    shared = privacy.Pseudonymiser(key=KEY)
    for df, cols in _crafted_tables().values():
        shared(df, cols)
    # every distinct canonical id across all tables, by hand: the ints, the text (stripped),
    # the floats (7.0 -> "7", 2.5 stays "2.5"), the bytes id, the referral ids
    expected = {"101", "102", "103", "007", "7", "A1", "B2", "2.5", "5", "6"}
    assert sorted(hashed) == sorted(expected) and shared.hashed == len(expected)


def test_collision_across_tables_is_refused(monkeypatch):
    monkeypatch.setattr(privacy, "_keyed", lambda secret: lambda text: "0" * 64)
    shared = privacy.Pseudonymiser(key=KEY)
    shared(pd.DataFrame({"id": ["a"]}), "id")
    shared(pd.DataFrame({"id": ["a"]}), "id")  # the same id again is not a collision
    with pytest.raises(oc.OutcomesError, match="longer length"):
        shared(pd.DataFrame({"id": ["b"]}), "id")


def test_pseudonymiser_repr_and_errors_never_show_the_key():
    shared = privacy.Pseudonymiser(key=KEY)
    assert KEY not in repr(shared) + str(vars(shared))
    with pytest.raises(oc.OutcomesError, match="parameter 'length'"):
        privacy.Pseudonymiser(key=KEY, length=True)


_ids = st.one_of(
    st.integers(-5, 120),
    st.integers(0, 40).map(float),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.text(alphabet="07A \t", max_size=4),
    st.none(),
)


@settings(max_examples=150, deadline=None)
@given(tables=st.lists(st.lists(_ids, min_size=1, max_size=12), min_size=1, max_size=4))
def test_property_shared_equals_per_table(tables):
    shared = privacy.Pseudonymiser(key=KEY)
    for values in tables:
        df = pd.DataFrame({"person_id": pd.Series(values, dtype=object), "n": range(len(values))})
        pd.testing.assert_frame_equal(
            shared(df, "person_id"), _old_pseudonymise(df, ["person_id"], KEY)
        )
        # and each row is the HMAC of its canonical text, computed here row by row
        for v, got in zip(values, shared(df, "person_id")["person_id"], strict=True):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                assert pd.isna(got)
            else:
                (text,) = privacy._canonical(np.array([v], dtype=object))
                assert got == hmac.new(KEY.encode(), text.encode(), hashlib.sha256).hexdigest()[:16]


@pytest.mark.parametrize("size", [16, 63, 64, 65, 131])
def test_keys_around_the_sha256_block_size_match_stdlib_hmac(size):
    # RFC 2104: keys longer than the 64-byte block are hashed first; shorter ones are padded
    key = bytes(range(256))[:size] if size < 256 else b"\xaa" * size
    out = pseudonymise(pd.DataFrame({"id": ["x", "é"]}), "id", key=key, length=64)
    expected = [hmac.new(key, t.encode(), hashlib.sha256).hexdigest() for t in ("x", "é")]
    assert out["id"].tolist() == expected


def test_rfc4231_test_case_6_key_longer_than_a_block():
    # RFC 4231 section 4.7: key = 0xaa * 131, data = "Test Using Larger Than Block-Size Key -
    # Hash Key First" -> 60e43159 1ee0b67f 0d8a26aa cbf5b77f 8e0bc621 3728c514 05460404 0ee37f54
    data = "Test Using Larger Than Block-Size Key - Hash Key First"
    out = pseudonymise(pd.DataFrame({"id": [data]}), "id", key=b"\xaa" * 131, length=64)
    assert out["id"].iloc[0] == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"


def test_input_table_is_never_changed():
    df = pd.DataFrame({"person_id": ["a", "b"], "referral_id": [1, 2], "x": [1.5, 2.5]})
    before = df.copy()
    out = privacy.Pseudonymiser(key=KEY)(df, ["person_id", "referral_id"])
    out.loc[0, "x"] = 99.0
    pd.testing.assert_frame_equal(df, before)
