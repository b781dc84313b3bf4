"""The type stubs (_native.pyi) describe exactly what the native module has — names,
signatures (keyword-only markers and defaults included), exception classes."""

from __future__ import annotations

import ast
import inspect

import mozaggregator  # noqa: F401  (attaches the pandas helpers the stubs list)
import mozaggregator._native as native
from conftest import REPO

STUB = REPO / "python" / "mozaggregator" / "_native.pyi"


def stub_tree():
    tree = ast.parse(STUB.read_text())
    functions, classes = {}, {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = node
    return functions, classes


def members(node):
    return {n.name: n for n in node.body if isinstance(n, ast.FunctionDef)}


def public(names):
    return {n for n in names if not n.startswith("_")}


def is_exception(name):
    return issubclass(getattr(native, name), BaseException)


def stub_parameters(node):
    """(name, kind, has a default) of a stub's parameters, as inspect names the kinds."""
    args = node.args
    P = inspect.Parameter
    out = []
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for arg, default in zip(positional, defaults):
        out.append((arg.arg, P.POSITIONAL_OR_KEYWORD, default is not None))
    if args.vararg:
        out.append((args.vararg.arg, P.VAR_POSITIONAL, False))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        out.append((arg.arg, P.KEYWORD_ONLY, default is not None))
    if args.kwarg:
        out.append((args.kwarg.arg, P.VAR_KEYWORD, False))
    return out


def runtime_parameters(obj):
    P = inspect.Parameter
    return [(p.name, P.POSITIONAL_OR_KEYWORD if p.kind is P.POSITIONAL_ONLY else p.kind,
             p.default is not P.empty)
            for p in inspect.signature(obj).parameters.values()]


def test_stub_lists_every_function_and_class():
    functions, classes = stub_tree()
    runtime_functions = {n for n, o in vars(native).items()
                         if inspect.isbuiltin(o) and not n.startswith("_")}
    runtime_classes = {n for n, o in vars(native).items() if inspect.isclass(o)}
    assert set(functions) == runtime_functions
    assert set(classes) == runtime_classes


def test_stub_lists_every_method_and_property():
    _, classes = stub_tree()
    for name, node in classes.items():
        if is_exception(name):
            continue
        runtime = public(dir(getattr(native, name)))
        assert public(members(node)) == runtime, name


def test_stub_exception_classes_have_the_runtime_bases():
    _, classes = stub_tree()
    exceptions = {n for n in classes if is_exception(n)}
    assert exceptions == {"StoreError", "StoreLockedError", "StoreReadOnlyError",
                          "StoreDamagedError", "NotAStoreError", "StoreVersionError",
                          "StoreDiskError"}
    for name in exceptions:
        bases = [b.id for b in classes[name].bases]
        assert [b.__name__ for b in getattr(native, name).__bases__] == bases, name


def test_stub_signatures_match_the_runtime():
    functions, classes = stub_tree()
    checked = 0
    for name, node in functions.items():
        assert stub_parameters(node) == runtime_parameters(getattr(native, name)), name
        checked += 1
    for class_name, class_node in classes.items():
        if is_exception(class_name):
            continue
        cls = getattr(native, class_name)
        for name, node in members(class_node).items():
            decorators = {d.id for d in node.decorator_list if isinstance(d, ast.Name)}
            if "property" in decorators or (name.startswith("__") and name != "__init__"):
                continue
            if name == "__init__":
                stub = stub_parameters(node)[1:]          # without self
                assert stub == runtime_parameters(cls), class_name
            else:
                stub = stub_parameters(node)
                assert stub == runtime_parameters(getattr(cls, name)), f"{class_name}.{name}"
            checked += 1
    assert checked > 40
