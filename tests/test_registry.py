"""ToolRegistry: entry-point discovery (built-ins and a real throwaway plugin), errors, routing."""

from __future__ import annotations

import sys
import textwrap
import tomllib
import uuid
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

import tools.registry as registry_module
from catalog.models import Catalog, Interactions, Item
from tools.base import (
    Candidate,
    ConvrecTool,
    InputKind,
    ProfileInputs,
    ToolResources,
    ToolState,
)
from tools.cf_scoring import CFScoringTool
from tools.registry import (
    BUILTIN_TOOLS,
    DuplicateToolError,
    ToolLoadError,
    ToolNotFoundError,
    ToolRegistry,
)

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


class TextTool(ConvrecTool):
    """Echoes nothing; consumes free text (used to test routing)."""

    name: str = "text_tool"
    description: str = "test tool"
    consumes: ClassVar[frozenset[InputKind]] = frozenset({InputKind.FREE_TEXT})

    @classmethod
    def create(cls, resources: ToolResources) -> TextTool:
        return cls()

    def score(self, profile: ProfileInputs, k: int, state: ToolState) -> list[Candidate]:
        return []


class Unnamed(ConvrecTool):
    """A tool that forgot to declare its name."""

    description: str = "no name"


def resources(tmp_path: Path) -> ToolResources:
    """Minimal resources (one item, no ratings)."""
    empty = np.array([], dtype=object)
    catalog = Catalog(name="one", items={"1": Item(id="1", title="One")},
                      interactions=Interactions(empty, empty, np.array([], dtype=np.float32)))
    return ToolResources(catalog=catalog, cache_dir=tmp_path)


def install_plugin(site: Path, entries: dict[str, str], module: str, source: str) -> str:
    """Write a real distribution (dist-info + entry_points.txt) and its module into `site`."""
    dist = f"convrec_plugin_{uuid.uuid4().hex[:8]}"
    info = site / f"{dist}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "\n".join(f"{name} = {value}" for name, value in entries.items())
    (info / "entry_points.txt").write_text(f"[convrec.tools]\n{lines}\n")
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    return dist


PLUGIN_SOURCE = '''
    """A throwaway third-party convrec tool."""
    from typing import ClassVar
    from tools.base import Candidate, ConvrecTool, Evidence, InputKind


    class EchoTool(ConvrecTool):
        """Proposes the first catalog item."""

        name: str = "echo_tool"
        description: str = "echo"
        consumes: ClassVar[frozenset[InputKind]] = frozenset({InputKind.ENTITIES})
        first: str = ""

        @classmethod
        def create(cls, resources):
            return cls(first=next(iter(resources.catalog.items)))

        def score(self, profile, k, state):
            if not profile.entities:
                return []
            return [Candidate(item_id=self.first, score=1.0, evidence=[
                Evidence(tool=self.name, kind="echo", text="echo")])]


    class NotATool:
        pass
'''


@pytest.fixture()
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh directory on sys.path that importlib.metadata scans for distributions."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_builtins_match_pyproject_and_are_registered() -> None:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"]["convrec.tools"]
    assert declared == BUILTIN_TOOLS
    registry = ToolRegistry()
    assert set(BUILTIN_TOOLS) <= set(registry.names())
    assert registry.get("cf_scoring") is CFScoringTool
    registry.discover()  # idempotent: the same entry points are not duplicates of themselves
    assert registry.problems == []


def test_builtins_fall_back_to_import_paths_without_metadata(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [])
    registry = ToolRegistry()
    assert registry.names() == sorted(BUILTIN_TOOLS)
    assert "entry point cf_scoring = tools.cf_scoring:CFScoringTool" in registry.source(
        "cf_scoring")
    assert registry.get("cf_scoring") is CFScoringTool


def test_unknown_name_lists_valid_names() -> None:
    registry = ToolRegistry(discover=False)
    registry.register(TextTool)
    registry.register(CFScoringTool)
    with pytest.raises(ToolNotFoundError, match="valid tools: cf_scoring, text_tool"):
        registry.get("nope")
    with pytest.raises(LookupError):
        registry.get("nope")


def test_register_refuses_duplicates_and_non_tools() -> None:
    registry = ToolRegistry(discover=False)
    assert registry.register(TextTool) == "text_tool"
    with pytest.raises(DuplicateToolError, match="duplicate tool name 'text_tool'"):
        registry.register(TextTool)
    with pytest.raises(ToolLoadError, match="not point to a ConvrecTool subclass"):
        registry.register(dict)  # type: ignore[arg-type]
    with pytest.raises(ToolLoadError, match="declares no tool name"):
        registry.register(Unnamed)
    assert registry.register(TextTool, name="text_tool_2") == "text_tool_2"
    with pytest.raises(ToolLoadError, match="calls itself 'text_tool'"):
        registry.get("text_tool_2")


def test_discovers_a_real_installed_plugin_and_refuses_a_duplicate(site: Path,
                                                                    tmp_path: Path) -> None:
    module = f"echo_plugin_{uuid.uuid4().hex[:8]}"
    dist = install_plugin(site, {"echo_tool": f"{module}:EchoTool",
                                 "cf_scoring": f"{module}:EchoTool"}, module, PLUGIN_SOURCE)
    registry = ToolRegistry()
    assert "echo_tool" in registry.names()
    assert registry.names()[: len(BUILTIN_TOOLS)] == sorted(BUILTIN_TOOLS)  # built-ins first
    assert dist in registry.source("echo_tool")
    assert module not in sys.modules  # discovery imports nothing
    # The plugin's claim on a built-in name is refused with a clear message.
    assert registry.get("cf_scoring") is CFScoringTool
    assert len(registry.problems) == 1
    assert "duplicate tool name 'cf_scoring'" in registry.problems[0]
    assert dist in registry.problems[0]
    with pytest.raises(DuplicateToolError, match="cf_scoring"):
        ToolRegistry(strict=True)
    tool = registry.create_all(resources(tmp_path), ["echo_tool"]).tools["echo_tool"]
    result = tool.run_typed(ProfileInputs(entities=["x"]), 5)
    assert [c.item_id for c in result.candidates] == ["1"]
    assert registry.for_inputs({InputKind.ENTITIES}) == [
        n for n in registry.names() if n in ("kg_expansion", "comention", "echo_tool")]


def test_broken_plugins_are_reported_not_fatal(site: Path, tmp_path: Path) -> None:
    good = f"good_{uuid.uuid4().hex[:8]}"
    bad = f"bad_{uuid.uuid4().hex[:8]}"
    install_plugin(site, {"echo_tool": f"{good}:EchoTool", "wrong_type": f"{good}:NotATool",
                          "broken_tool": f"{bad}:Tool"}, good, PLUGIN_SOURCE)
    (site / f"{bad}.py").write_text("raise ImportError('needs libfoo')\n")
    registry = ToolRegistry()
    created = registry.create_all(resources(tmp_path), ["echo_tool", "wrong_type",
                                                        "broken_tool"])
    assert list(created.tools) == ["echo_tool"]
    assert "needs libfoo" in created.failed["broken_tool"]
    assert "not point to a ConvrecTool subclass" in created.failed["wrong_type"]
    with pytest.raises(ToolLoadError, match="needs libfoo"):
        registry.get("broken_tool")
    assert "broken_tool" not in registry.for_inputs(set(InputKind))
    with pytest.raises(ToolNotFoundError):
        registry.create_all(resources(tmp_path), ["echo_tool", "missing"])


def test_create_failures_are_reported(tmp_path: Path) -> None:
    class Fragile(TextTool):
        name: str = "fragile"

        @classmethod
        def create(cls, resources: ToolResources) -> Fragile:
            raise OSError("index folder is read-only")

    registry = ToolRegistry(discover=False)
    registry.register(Fragile)
    registry.register(TextTool)
    created = registry.create_all(resources(tmp_path))
    assert list(created.tools) == ["text_tool"]
    assert created.failed == {"fragile": "fragile.create() failed: OSError: index folder is "
                                         "read-only"}


def test_for_inputs_routes_by_consumed_inputs() -> None:
    registry = ToolRegistry(discover=False)
    registry.register(CFScoringTool)
    registry.register(TextTool)
    assert registry.for_inputs({InputKind.LIKED_ITEMS}) == ["cf_scoring"]
    assert registry.for_inputs({InputKind.DISLIKED_ITEMS, InputKind.FREE_TEXT}) == [
        "cf_scoring", "text_tool"]
    assert registry.for_inputs(set()) == []
    present = ProfileInputs(free_text="space", liked_items=["1"]).present()
    assert registry.for_inputs(present) == ["cf_scoring", "text_tool"]

