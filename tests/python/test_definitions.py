"""Definitions: loading Histograms.json / Scalars.yaml, layouts, descriptions, errors, pickle."""

from __future__ import annotations

import json
import pickle

import pytest

from mozaggregator import BucketLayout, Definitions


@pytest.fixture
def small(tmp_path):
    hist = tmp_path / "Histograms.json"
    hist.write_text(json.dumps({
        "GC_MS": {"kind": "exponential", "high": "10000", "n_buckets": 50,
                  "description": "GC time"},
        "PAGE_LOADS": {"kind": "count", "keyed": "true", "description": "loads"},
        "SPINNER": {"kind": "categorical", "labels": ["seen", "unseen"],
                    "description": "spinner"},
        "CHOICE": {"kind": "enumerated", "n_values": 4, "description": "choice"},
    }))
    scalars = tmp_path / "Scalars.yaml"
    scalars.write_text(
        "browser.engagement:\n"
        "  tab_open_event_count:\n"
        "    kind: uint\n"
        "    description: Tabs opened\n"
        "    keyed: false\n"
    )
    return hist, scalars


def test_layouts_descriptions_and_kinds(small):
    hist, scalars = small
    defs = Definitions(histograms=hist, scalars=scalars)
    assert len(defs) == 5
    assert defs.metrics() == sorted(defs.metrics())
    assert "GC_MS" in defs and "NOPE" not in defs
    gc = defs.layout("GC_MS")
    assert isinstance(gc, BucketLayout)
    assert gc == BucketLayout.exponential(1, 10000, 50)
    assert defs.description("GC_MS") == "GC time"
    assert defs.kind("PAGE_LOADS") == "count" and defs.keyed("PAGE_LOADS") is True
    assert defs.layout("SPINNER").labels == ["seen", "unseen"]
    assert defs.layout("CHOICE").buckets == [0, 1, 2, 3, 4]
    name = "SCALARS_BROWSER.ENGAGEMENT.TAB_OPEN_EVENT_COUNT"
    assert defs.description(name) == "Tabs opened"
    assert defs.layout(name).buckets[:3] == [0, 1, 2]
    # lookup fallbacks: NAME/suffix and STARTUP_NAME
    assert defs.layout("GC_MS/parent") == gc
    assert defs.description("STARTUP_GC_MS") == "GC time"


def test_scalars_as_a_list_and_histograms_alone(small):
    hist, scalars = small
    assert len(Definitions(scalars=[scalars, scalars])) == 1
    assert len(Definitions(scalars=str(scalars))) == 1
    assert len(Definitions(histograms=str(hist))) == 4
    assert Definitions(histograms=hist).scalars == [] and Definitions(histograms=hist).histograms == hist


def test_unknown_metric_is_a_key_error(small):
    defs = Definitions(histograms=small[0], scalars=small[1])
    for method in (defs.layout, defs.description, defs.kind, defs.keyed):
        with pytest.raises(KeyError) as err:
            method("NO_SUCH_PROBE")
        assert err.value.args == ("NO_SUCH_PROBE",)


def test_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        Definitions(histograms=tmp_path / "missing.json")
    assert err.value.filename == str(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    with pytest.raises(ValueError):
        Definitions(histograms=bad)
    with pytest.raises(TypeError):
        Definitions(scalars=5)
    with pytest.raises(TypeError):
        Definitions(scalars=[5])


def test_pickle_reloads_the_files(small):
    defs = Definitions(histograms=small[0], scalars=small[1])
    back = pickle.loads(pickle.dumps(defs))
    assert back.metrics() == defs.metrics()
    assert back.layout("SPINNER") == defs.layout("SPINNER")


def test_every_layout_of_the_2017_definitions(shared_data):
    defs = Definitions(histograms=shared_data / "definitions" / "Histograms-2017.json")
    expected = json.loads((shared_data / "vectors" / "ranges_all_defs.json").read_text())
    checked = 0
    for name, want in expected.items():
        if name not in defs:
            continue
        layout = defs.layout(name)
        assert layout.kind == want["kind"], name
        assert layout.buckets == want["ranges"], name
        assert layout.labels == want["labels"], name
        checked += 1
    assert checked >= 1497


def test_real_scalar_files(shared_data):
    d = shared_data / "definitions"
    defs = Definitions(scalars=[d / "Scalars-test-subset.yaml", d / "Scalars-2017-trimmed.yaml"])
    assert "SCALARS_BROWSER.ENGAGEMENT.TOTAL_URI_COUNT" in defs
    assert defs.description("SCALARS_BROWSER.ENGAGEMENT.TOTAL_URI_COUNT")
