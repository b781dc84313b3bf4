"""The examples in the docstrings of the Python API run and print what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["mozaggregator", "mozaggregator._native", "mozaggregator._frames", "mozaggregator.spark"]


def _examples():
    finder = doctest.DocTestFinder(exclude_empty=True)
    for name in MODULES:
        module = importlib.import_module(name)
        for test in finder.find(module, name):
            if test.examples:
                yield pytest.param(test, id=test.name)


@pytest.mark.parametrize("test", list(_examples()))
def test_docstring_example(test):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{test.name}: {result.failed} example(s) failed (see output above)"


def test_every_public_name_has_a_docstring():
    import mozaggregator

    for name in mozaggregator.__all__:
        obj = getattr(mozaggregator, name)
        if isinstance(obj, str):
            continue
        assert (obj.__doc__ or "").strip(), name


def test_there_are_examples():
    assert len(list(_examples())) >= 5
