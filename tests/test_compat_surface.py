"""Every public name of assistant-stream 0.0.36 exists at the same module path in ours.

The baseline's modules are walked and each one's public names read from its source (its
``__all__``, else its top-level definitions and its imports from the package itself), so a
name added upstream and missing here shows up by name. Functions must accept the same calls.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType

import pytest

from test_compat import assert_call_compatible

old = pytest.importorskip("assistant_stream", reason="assistant-stream==0.0.36 baseline")
pytest.importorskip("langchain_core")

# The resumable module is built on another branch.
OUT_OF_SCOPE: tuple[str, ...] = ()

# Names not yet importable from the module 0.0.36 had them in (none left).
SERIALIZATION_PENDING: dict[str, set[str]] = {}


def baseline_modules() -> list[str]:
    names = ["assistant_stream"]
    for package in ("assistant_stream", "assistant_stream.modules"):
        path = importlib.import_module(package).__path__
        names += [info.name for info in pkgutil.walk_packages(path, f"{package}.")]
    return sorted(n for n in set(names) if not n.startswith(OUT_OF_SCOPE))


def public_names(module: ModuleType) -> set[str]:
    if hasattr(module, "__all__"):
        return set(module.__all__)
    names: set[str] = set()
    source = Path(module.__file__ or "").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(old.__name__):
            names.update(alias.asname or alias.name for alias in node.names)
    return {name for name in names if not name.startswith("_")}


def test_the_walk_finds_the_modules_of_the_issue() -> None:
    modules = baseline_modules()
    for expected in (
        "assistant_stream.state_manager",
        "assistant_stream.serialization.heartbeat",
        "assistant_stream.modules.langgraph",
        "assistant_stream.modules.text",
        "assistant_stream.state_proxy",
    ):
        assert expected in modules
    assert len(modules) >= 15


@pytest.mark.parametrize("module_name", baseline_modules())
def test_module_has_every_public_name(module_name: str) -> None:
    old_module = importlib.import_module(module_name)
    new_module = importlib.import_module("assistant_stream_ce" + module_name[len(old.__name__) :])
    expected = public_names(old_module) - SERIALIZATION_PENDING.get(module_name, set())
    missing = sorted(name for name in expected if not hasattr(new_module, name))
    assert not missing, f"{new_module.__name__} lacks {missing}"
    for name in sorted(expected):
        old_value = getattr(old_module, name)
        if inspect.isfunction(old_value) and old_value.__module__.startswith(old.__name__):
            assert_call_compatible(old_value, getattr(new_module, name), f"{module_name}.{name}")


# Our controller.state proxy named these parameters before this compatibility work; only a
# keyword call (``append(item=...)``) notices. Listed in docs/migrating.md.
RENAMED_PARAMETERS = {("StateProxy", "append"), ("StateProxy", "extend")}


@pytest.mark.parametrize(
    ("module_name", "class_name"),
    [
        ("state", "AssistantState"),
        ("state", "StateDraft"),
        ("state", "Flusher"),
        ("state", "StateProxy"),
        ("state_manager", "StateManager"),
        ("create_run", "ReadOnlyCancellationSignal"),
    ],
)
def test_new_classes_accept_the_same_calls(module_name: str, class_name: str) -> None:
    old_class = getattr(importlib.import_module(f"assistant_stream.{module_name}"), class_name)
    new_class = getattr(importlib.import_module(f"assistant_stream_ce.{module_name}"), class_name)
    if class_name != "StateProxy":  # 0.0.36's path was a list; ours a tuple (both optional)
        assert_call_compatible(old_class.__init__, new_class.__init__, f"{class_name}()")
    for name, member in vars(old_class).items():
        if name.startswith("_") or (class_name, name) in RENAMED_PARAMETERS:
            continue
        assert hasattr(new_class, name), f"{class_name}.{name} is missing"
        if inspect.isfunction(member):
            assert_call_compatible(member, getattr(new_class, name), f"{class_name}.{name}")
