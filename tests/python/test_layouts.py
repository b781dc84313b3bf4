"""Bucket layout functions and the BucketLayout class."""

from __future__ import annotations

import json
import pickle
import re

import pytest

import mozaggregator
from mozaggregator import BucketLayout


def test_exponential_reference_values():
    b = mozaggregator.exponential_buckets(1, 10000, 50)
    assert len(b) == 50
    assert b[:10] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10]
    assert b[-1] == 10000
    # The scalar labels (docs/ingest.md, "Scalars, simple measures, count histograms").
    s = mozaggregator.exponential_buckets(1, 10000, 100)
    assert s[:20] == list(range(20)) and s[20:22] == [21, 23] and s[-2:] == [9249, 10000]


def test_linear_tie_rounds_up():
    assert mozaggregator.linear_buckets(1, 1000, 50)[9] == 168


@pytest.mark.parametrize(
    "args",
    [(1, 10, 2), (0, 10, 5), (10, 10, 5), (-1, 10, 5), (1, 10, -3), (1, 10, 1_000_000_000)],
)
def test_bad_parameters_raise_value_error(args):
    with pytest.raises(ValueError):
        mozaggregator.exponential_buckets(*args)
    with pytest.raises(ValueError):
        mozaggregator.linear_buckets(*args)


def test_all_reference_vectors(shared_data):
    vectors = json.loads((shared_data / "vectors" / "bucket_vectors.json").read_text())
    checked = 0
    for name, expected in vectors.items():
        m = re.fullmatch(r"(exp|lin)\((\d+),\s*(\d+),\s*(\d+)\)", name)
        if not m:
            continue
        fn = mozaggregator.exponential_buckets if m[1] == "exp" else mozaggregator.linear_buckets
        assert fn(int(m[2]), int(m[3]), int(m[4])) == expected, name
        checked += 1
    assert checked > 0


def test_bucket_layout_class():
    layout = BucketLayout.exponential(1, 10000, 50)
    assert layout.kind == "exponential"
    assert len(layout) == 50
    assert layout.buckets == mozaggregator.exponential_buckets(1, 10000, 50)
    assert layout.bucket_index(42) == 17 and layout.buckets[17] == 40
    assert (layout.low, layout.high) == (1, 10000)
    assert layout.labels == []
    assert BucketLayout.linear(1, 1000, 50).buckets == mozaggregator.linear_buckets(1, 1000, 50)
    assert BucketLayout.enumerated(4).buckets == [0, 1, 2, 3, 4]
    for make, kind in [(BucketLayout.boolean, "boolean"), (BucketLayout.flag, "flag"),
                       (BucketLayout.count, "count")]:
        assert make().kind == kind and make().buckets == [0, 1, 2]
    cat = BucketLayout.categorical(["a", "b", "c"])
    assert cat.kind == "categorical" and cat.labels == ["a", "b", "c"] and len(cat) == 51
    assert len(BucketLayout.categorical(["a"], n_values=70)) == 71
    with pytest.raises(ValueError):
        BucketLayout.categorical([])
    with pytest.raises(ValueError):
        BucketLayout.exponential(5, 5, 10)


def test_bucket_layout_value_semantics_and_pickle():
    a = BucketLayout.exponential(1, 500, 20)
    assert a == BucketLayout.exponential(1, 500, 20)
    assert a != BucketLayout.linear(1, 500, 20)
    assert len({a, BucketLayout.exponential(1, 500, 20)}) == 1
    assert "exponential" in repr(a)
    for layout in [a, BucketLayout.categorical(["x", "y"]), BucketLayout.enumerated(7),
                   BucketLayout.flag()]:
        back = pickle.loads(pickle.dumps(layout))
        assert back == layout and back.labels == layout.labels
