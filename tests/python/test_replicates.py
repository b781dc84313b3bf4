"""Replicate groups from Python: ``Aggregator(replicates=R)`` (and the Spark helper's option)
— a bad R is a ValueError naming the allowed counts, the normal aggregates are those without
replicates, pings without a group are counted, and the option survives pickling."""

from __future__ import annotations

import pickle

import pytest

from mozaggregator import Aggregator, Store, spark
from pings import ping

# Used, but without a replicate group: a fractional sampleId and no clientId.
NO_GROUP = ping(**{"meta.sampleId": 2.5, "clientId": None})


def pings():
    return [ping(), ping(**{"meta.sampleId": 63}), ping(**{"meta.sampleId": None}), NO_GROUP]


@pytest.mark.parametrize("bad", [3, 0, 1, -20, 200, 2**40])
def test_a_count_that_does_not_divide_100_is_a_value_error(bad):
    with pytest.raises(ValueError, match="use one of 2, 4, 5, 10, 20, 25, 50, 100"):
        Aggregator(replicates=bad)
    with pytest.raises(ValueError, match="replicates"):
        Aggregator.from_bytes(Aggregator().to_bytes(), replicates=bad)


def test_replicates_leave_the_aggregates_as_they_were_and_count_pings_without_a_group():
    plain, grouped = Aggregator(), Aggregator(replicates=20)
    for agg in (plain, grouped):
        agg.add_pings(pings())
    assert grouped.aggregates() == plain.aggregates()
    report = grouped.report()
    assert report["pings_used"] == 4
    assert report["pings_without_replicate_group"] == 1
    assert plain.report()["pings_without_replicate_group"] == 0
    # Everything else is counted the same.
    same = {k for k in report if k != "pings_without_replicate_group"}
    assert {k: report[k] for k in same} == {k: plain.report()[k] for k in same}
    written = grouped.write(Store())
    assert written["rows_written"] == plain.write(Store())["rows_written"]
    assert "replicate_rows_written" in written
    assert "replicate_rows_written" in grouped.report()


def test_the_option_survives_pickling_and_merging():
    agg = Aggregator(replicates=25)
    state = agg.__reduce__()[1][0]
    assert state[0] == 4 and state[7] == 25  # (…, replicates, versions, doc_type)
    copy = pickle.loads(pickle.dumps(agg))
    copy.add_pings(pings())
    assert copy.report()["pings_without_replicate_group"] == 1
    back = Aggregator.from_bytes(copy.to_bytes(), replicates=25)
    assert back.aggregates() == copy.aggregates()
    assert back.report() == copy.report()


def test_aggregators_with_different_counts_merge_but_refuse_to_write():
    a, b = Aggregator(replicates=20), Aggregator(replicates=10)
    a.add_ping(ping())
    b.add_ping(ping(**{"meta.sampleId": 3}))
    a.merge(b)
    store = Store()
    with pytest.raises(ValueError, match="different replicate counts"):
        a.write(store)
    assert store.channels("build_id") == []
    with pytest.raises(ValueError, match="replicates"):
        a.aggregates()


def test_the_spark_helper_passes_the_option_on():
    options = spark._options(None, None, None, None, False, False, 50)
    assert options["replicates"] == 50
    assert spark._new_aggregator(options).__reduce__()[1][0][7] == 50
    with pytest.raises(ValueError, match="use one of"):
        spark._new_aggregator(spark._options(None, None, None, None, False, False, 7))
