"""The generated catalogue describes what the YAML says and never leaks restricted wording."""

from __future__ import annotations

from outcomes.instruments.catalogue import catalogue_markdown, instrument_markdown


def test_catalogue_covers_every_instrument_and_rule():
    md = catalogue_markdown()
    for i in ("sdq_parent", "honosca", "chi_esq_12_18", "swemwbs", "gbo", "workforce_confidence"):
        assert f"(`{i}`)" in md
    sdq = instrument_markdown("sdq_parent")
    assert "needs 3 of 5 answered; prorated; rounded half away from zero" in sdq
    assert "| `obeys` | obedient | ntc | reverse-keyed |" in sdq
    assert "= 0 when `ebddiff` is [0]" in sdq
    assert "≥ 4" in sdq
    hon = instrument_markdown("honosca")
    assert "9 = Not known" in hon and "coding `nocc`" in hon


def test_wording_only_where_the_licence_allows():
    wcs = instrument_markdown("workforce_confidence")
    assert "I feel confident starting a conversation with a pupil" in wcs
    # SDQ shows ids and short labels only (no wording is stored, and none is printed)
    sdq = instrument_markdown("sdq_self")
    assert "considerate" in sdq and "Considerate of other people" not in sdq
