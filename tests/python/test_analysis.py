"""The Analysis API from Python: statistics, comparisons, OR filters, group_by, top and date
ranges give the same numbers as the HTTP API serving the same store."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

import mozaggregator
from conftest import cli_binary

DAYS = ["20240113", "20240114", "20240115"]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("analysis") / "store.sqlite"
    agg = mozaggregator.Aggregator()
    for i, day in enumerate(DAYS):
        agg.add_pings(mozaggregator.generate_pings(80, seed=100 + i, submission_date=day))
    agg.write(mozaggregator.Store.open(str(path)))
    return path


@pytest.fixture(scope="module")
def store(db):
    return mozaggregator.Store.open(str(db))


@pytest.fixture(scope="module")
def selection(store):
    """(channel, version, an unkeyed exponential metric, a keyed metric, two OS names)."""
    channel = "nightly" if "nightly" in store.channels("submission_date") else store.channels("submission_date")[0]
    counts = {}
    for d in store.dates("submission_date", channel):
        counts[d["version"]] = counts.get(d["version"], 0) + 1
    version = max(counts, key=counts.get)
    options = store.filters(channel, version)
    unkeyed = keyed = None
    for metric in options["metric"]:
        r = store.query("submission_date", channel, version, DAYS, metric)
        labels = {e["label"] for e in r.data}
        if unkeyed is None and r.kind == "exponential" and labels == {""} and len(r.data) == 3:
            unkeyed = metric
        if keyed is None and len(labels) >= 3 and "" not in labels:
            keyed = metric
    os_names = sorted({o.split(",")[0] for o in options["os"]})
    assert unkeyed and keyed and len(os_names) >= 2
    return channel, version, unkeyed, keyed, os_names[:2]


@pytest.fixture(scope="module")
def server(db):
    cli = cli_binary()
    if cli is None or not cli.exists():
        pytest.skip("the mozaggregator CLI is not built (scripts/test.sh builds it)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(cli), "serve", "--db", str(db), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/__lbheartbeat__", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("mozaggregator serve did not start")
            time.sleep(0.05)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def http(base, path, params):
    url = f"{base}{path}?{urllib.parse.urlencode(params, doseq=True)}"
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_stats_equal_the_http_api(store, selection, server):
    channel, version, metric, _, _ = selection
    for method in ["interp", "nearest", "tmo"]:
        r = store.query("submission_date", channel, version, DAYS, metric,
                        stats=["mean", "p5", "p50", "p99.9"], pct_method=method)
        over_http = http(server, f"/aggregates_by/submission_date/channels/{channel}/",
                         {"version": version, "dates": ",".join(DAYS), "metric": metric,
                          "stats": "mean,p5,p50,p99.9", "pct_method": method})
        assert r.to_dict()["data"] == over_http["data"]
        # The QueryResult methods compute the same numbers.
        stats = r.stats(["mean", "p5", "p50", "p99.9"], method=method)
        assert [s["p50"] for s in stats] == [e["stats"]["p50"] for e in over_http["data"]]
        assert [p["p50"] for p in r.percentiles([50], method=method)] == [s["p50"] for s in stats]
    plain = store.query("submission_date", channel, version, DAYS, metric)
    for mean, entry in zip(plain.mean(), plain.data):
        assert mean == pytest.approx(entry["sum"] / sum(entry["histogram"]))
    for cdf, props in zip(plain.cdf(), plain.proportions()):
        assert cdf[-1] == pytest.approx(1.0)
        assert sum(props) == pytest.approx(1.0)
        assert len(cdf) == len(plain.buckets)


def test_or_group_by_top_and_ranges(store, selection, server):
    channel, version, metric, keyed, (os1, os2) = selection
    q = lambda m, dates=DAYS, **kw: store.query("submission_date", channel, version, dates, m, **kw)  # noqa: E731
    def counts(result):
        return {e["date"]: e["count"] for e in result.data}

    both, one, two = counts(q(metric, os=[os1, os2])), counts(q(metric, os=os1)), counts(q(metric, os=os2))
    assert both == {d: one.get(d, 0) + two.get(d, 0) for d in both}
    assert set(both) == set(one) | set(two)
    grouped = q(metric, group_by="os")
    whole = q(metric)
    for entry in whole.data:
        parts = [g for g in grouped.data if g["date"] == entry["date"]]
        assert sum(g["count"] for g in parts) == entry["count"]
    assert q(metric, dates=f"{DAYS[0]}..{DAYS[2]}").data == whole.data
    top = q(keyed, top=2)
    assert "__other__" in {e["label"] for e in top.data}
    over_http = http(server, f"/aggregates_by/submission_date/channels/{channel}/",
                     {"version": version, "dates": ",".join(DAYS), "metric": keyed, "top": 2})
    assert top.to_dict()["data"] == over_http["data"]
    with pytest.raises(ValueError, match="top"):
        q(metric, top=2)
    with pytest.raises(ValueError, match="group_by"):
        q(metric, group_by="colour")
    with pytest.raises(ValueError, match="p101"):
        q(metric, stats="p101")
    with pytest.raises(ValueError, match="pct_method"):
        q(metric, stats="p5", pct_method="linear")


def test_compare_equals_the_http_route(store, selection, server):
    channel, version, metric, _, (os1, os2) = selection
    a = store.query("submission_date", channel, version, DAYS, metric, os=os1)
    b = store.query("submission_date", channel, version, DAYS, metric, os=os2)
    c = mozaggregator.compare(a, b, stats=["mean", "p50", "p95"])
    over_http = http(server, f"/aggregates_by/submission_date/channels/{channel}/compare/",
                     {"version": version, "dates": ",".join(DAYS), "metric": metric,
                      "os": os1, "b.os": os2, "stats": "mean,p50,p95"})
    assert c == over_http
    assert set(c["distances"]) == {"bhattacharyya", "ks", "cdf_squared"}
    same = mozaggregator.compare(a, a)
    assert same["distances"]["ks"] == 0.0
    scalar = next(m for m in store.filters(channel, version)["metric"] if m.startswith("SCALARS_"))
    s = store.query("submission_date", channel, version, DAYS, scalar)
    if s.buckets != a.buckets:
        with pytest.raises(ValueError, match="layouts"):
            mozaggregator.compare(a, s)


def test_pandas_frames(store, selection):
    pd = pytest.importorskip("pandas")
    channel, version, metric, _, (os1, os2) = selection
    a = store.query("submission_date", channel, version, DAYS, metric, os=os1)
    b = store.query("submission_date", channel, version, DAYS, metric, os=os2)
    frame = a.stats_frame(["mean", "p50"])
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["date", "label", "samples", "mean", "p50"]
    assert len(frame) == len(a.data)
    props, cdf = a.proportions_frame(), a.cdf_frame()
    assert list(props.columns) == ["date", "label", *a.buckets]
    assert props.iloc[:, 2:].sum(axis=1).round(9).eq(1.0).all()
    assert cdf.iloc[:, -1].round(9).eq(1.0).all()
    comparison = mozaggregator.comparison_frame(mozaggregator.compare(a, b, stats="p50"))
    assert list(comparison.index) == ["samples", "pings", "mean", "p50"]
    assert comparison.loc["pings", "absolute"] == comparison.loc["pings", "b"] - comparison.loc["pings", "a"]
