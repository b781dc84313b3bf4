"""Small hand-made main pings for the tests (values chosen so expected aggregates are known)."""

from __future__ import annotations

import copy
from typing import Any

BASE: dict[str, Any] = {
    "meta": {"submissionDate": "20240102", "sampleId": 7},
    "clientId": "c0ffee00-0000-4000-8000-000000000001",
    "application": {
        "channel": "nightly",
        "version": "120.0a1",
        "buildId": "20240101093000",
        "name": "Firefox",
        "architecture": "x86-64",
    },
    "environment": {"system": {"os": {"name": "Linux", "version": "6.5.0"}}},
    "payload": {
        "histograms": {
            # exponential(1, 10000, 50): bounds[8] == 8, bounds[9] == 10
            "GC_MS": {
                "histogram_type": 0,
                "range": [1, 10000],
                "bucket_count": 50,
                "sum": 28,
                "values": {"8": 1, "10": 2},
            },
            # a count histogram: aggregated as [[COUNT]]_ with its sum as the value
            "TAB_COUNT": {
                "histogram_type": 4,
                "range": [1, 2],
                "bucket_count": 3,
                "sum": 42,
                "values": {"0": 1},
            },
        },
        "keyedHistograms": {
            "SEARCH_DURATION": {
                "google": {
                    "histogram_type": 1,
                    "range": [1, 100],
                    "bucket_count": 10,
                    "sum": 5,
                    "values": {"1": 5},
                }
            }
        },
        "simpleMeasurements": {"uptime": 42},
        "processes": {
            "parent": {"scalars": {"browser.engagement.tab_open_event_count": 3}},
            "content": {
                "histograms": {
                    "GC_MS": {
                        "histogram_type": 0,
                        "range": [1, 10000],
                        "bucket_count": 50,
                        "sum": 1,
                        "values": {"1": 1},
                    }
                }
            },
        },
    },
}


def ping(**changes: Any) -> dict[str, Any]:
    """A copy of BASE with dotted-path changes, e.g. ping(**{"application.channel": "beta"});
    a value of None deletes the field."""
    out = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = out
        *parents, last = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return out
