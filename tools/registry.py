"""Tool registry: discovers tools through the `convrec.tools` entry-point group, built-ins too."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

from catalog.errors import ConvrecError
from tools.base import ConvrecTool, InputKind, ToolResources

log = logging.getLogger(__name__)

GROUP = "convrec.tools"
DISTRIBUTION = "convrec"
# The built-ins exactly as pyproject.toml declares them; used only when the convrec
# distribution's metadata is not installed (e.g. running from a plain checkout).
BUILTIN_TOOLS: dict[str, str] = {
    "vector_retrieval": "tools.retrieval:VectorRetrievalTool",
    "kg_expansion": "tools.kg_expansion:KGExpansionTool",
    "cf_scoring": "tools.cf_scoring:CFScoringTool",
    "comention": "tools.comention:CoMentionTool",
}


class ToolRegistryError(ConvrecError):
    """Base of the registry's errors."""


class DuplicateToolError(ToolRegistryError):
    """Two tools claim the same name."""


class ToolNotFoundError(ToolRegistryError, LookupError):
    """No tool of that name is registered."""


class ToolLoadError(ToolRegistryError):
    """A registered tool could not be imported or is not a ConvrecTool subclass."""


@dataclass
class _Entry:
    """One registered name: where it comes from and, once imported, its class."""

    name: str
    source: str
    loader: Callable[[], object]
    cls: type[ConvrecTool] | None = None
    error: str | None = None


@dataclass
class CreatedTools:
    """What `create_all` built: the tool instances and, per failed name, why it failed."""

    tools: dict[str, ConvrecTool] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def tool_name(cls: type[ConvrecTool]) -> str:
    """The name a ConvrecTool subclass declares (its `name` field default)."""
    info = cls.model_fields.get("name")
    default = info.default if info is not None else None
    if not isinstance(default, str) or not default:
        raise ToolLoadError(f"{cls.__module__}.{cls.__qualname__} declares no tool name")
    return default


class ToolRegistry:
    """Maps tool names to ConvrecTool classes, imported lazily.

    Built-in and third-party tools are found the same way: through entry points in the
    `convrec.tools` group whose value is `module:ToolClass`. A name claimed twice is refused
    (the convrec distribution's own tools are registered first, so a plugin cannot shadow a
    built-in).

    Args:
        discover: Scan the entry-point group now.
        group: The entry-point group to scan.
        strict: Raise DuplicateToolError on a clash found while discovering, instead of
            recording it in `problems` and keeping the first registration.
    """

    def __init__(self, *, discover: bool = True, group: str = GROUP, strict: bool = False) -> None:
        self.group = group
        self.strict = strict
        self.problems: list[str] = []
        self._entries: dict[str, _Entry] = {}
        if discover:
            self.discover()

    # ------------------------------------------------------------------ registration

    def discover(self) -> None:
        """Register every entry point of the group (idempotent).

        When the convrec distribution itself is not installed, its built-ins are turned into
        entry points from BUILTIN_TOOLS and registered through the same path.
        """
        found = list(entry_points(group=self.group))
        if not any(_dist_name(ep) == DISTRIBUTION for ep in found):
            log.debug("convrec metadata not installed; registering built-ins by import path")
            found += [EntryPoint(name, value, self.group) for name, value in BUILTIN_TOOLS.items()]
        found.sort(key=lambda ep: (not _is_builtin(ep), _dist_name(ep), ep.name))
        for ep in found:
            self._add(ep.name, _describe(ep), ep.load, from_discovery=True)

    def register(self, cls: type[ConvrecTool], name: str | None = None) -> str:
        """Register a tool class programmatically.

        Args:
            cls: A ConvrecTool subclass.
            name: The name to register (default: the class's declared tool name).

        Returns:
            The registered name.

        Raises:
            ToolLoadError: when `cls` is not a ConvrecTool subclass.
            DuplicateToolError: when the name is already registered.
        """
        _check_class(cls, f"{cls!r}")
        name = name or tool_name(cls)
        self._add(name, f"registered class {cls.__module__}.{cls.__qualname__}",
                  lambda: cls, from_discovery=False)
        return name

    def _add(self, name: str, source: str, loader: Callable[[], object], *,
             from_discovery: bool) -> None:
        existing = self._entries.get(name)
        if existing is not None:
            if from_discovery and existing.source == source:
                return  # the same entry point seen again by a second discover()
            message = (f"duplicate tool name {name!r}: {source} refused, the name is already "
                       f"taken by {existing.source}")
            if from_discovery and not self.strict:
                log.warning("%s", message)
                self.problems.append(message)
                return
            raise DuplicateToolError(message)
        self._entries[name] = _Entry(name, source, loader)

    # ------------------------------------------------------------------ lookup

    def names(self) -> list[str]:
        """Registered names (built-ins first, then plugins), without importing anything."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def source(self, name: str) -> str:
        """Where a registered name comes from (distribution and entry point, or class)."""
        return self._entry(name).source

    def get(self, name: str) -> type[ConvrecTool]:
        """The tool class registered under `name`, importing its module on first use.

        Raises:
            ToolNotFoundError: when no tool has that name (the message lists the valid names).
            ToolLoadError: when the module fails to import or the object is not a tool class.
        """
        entry = self._entry(name)
        if entry.cls is not None:
            return entry.cls
        if entry.error is None:
            try:
                obj = entry.loader()
            except Exception as exc:  # noqa: BLE001 - any import failure is reported by name
                entry.error = (f"cannot import tool {name!r} ({entry.source}): "
                               f"{type(exc).__name__}: {exc}")
            else:
                try:
                    entry.cls = _check_class(obj, entry.source)
                    declared = tool_name(entry.cls)
                    if declared != name:
                        raise ToolLoadError(f"{entry.source} is registered as {name!r} but "
                                            f"the tool calls itself {declared!r}")
                except ToolLoadError as exc:
                    entry.cls, entry.error = None, str(exc)
        if entry.error is not None:
            raise ToolLoadError(entry.error)
        assert entry.cls is not None
        return entry.cls

    def _entry(self, name: str) -> _Entry:
        entry = self._entries.get(name)
        if entry is None:
            valid = ", ".join(sorted(self._entries)) or "(none)"
            raise ToolNotFoundError(f"unknown tool {name!r}; valid tools: {valid}")
        return entry

    # ------------------------------------------------------------------ use

    def create(self, name: str, resources: ToolResources) -> ConvrecTool:
        """Import (if needed) and instantiate one tool through its `create` classmethod.

        Raises:
            ToolNotFoundError: for an unknown name.
            ToolLoadError: when the tool cannot be imported.
        """
        cls = self.get(name)
        tool = cls.create(resources)
        if not isinstance(tool, ConvrecTool):
            raise ToolLoadError(f"{name}.create() returned {type(tool).__name__}, "
                                "not a ConvrecTool")
        return tool

    def create_all(self, resources: ToolResources, names: Iterable[str] | None = None,
                   raise_on: tuple[type[Exception], ...] = ()) -> CreatedTools:
        """Instantiate the named tools (default: all); a tool that fails is reported, not fatal.

        Args:
            resources: What the tools are built from.
            names: The tools to create (default: every registered one).
            raise_on: Exception types that propagate instead of being reported, e.g.
                `(UserFacingError,)` so that a damaged artifact stops start-up with its fix.

        Raises:
            ToolNotFoundError: when a requested name is not registered.
        """
        wanted = list(self._entries) if names is None else list(names)
        for name in wanted:
            self._entry(name)
        created = CreatedTools()
        for name in wanted:
            try:
                created.tools[name] = self.create(name, resources)
            except raise_on:
                raise
            except Exception as exc:  # noqa: BLE001 - one broken tool must not stop the rest
                reason = (str(exc) if isinstance(exc, ToolLoadError)
                          else f"{name}.create() failed: {type(exc).__name__}: {exc}")
                log.warning("tool %s unavailable: %s", name, reason)
                created.failed[name] = reason
        return created

    def for_inputs(self, present: set[InputKind]) -> list[str]:
        """Names of the tools whose `consumes` intersects the present profile inputs.

        Tools that fail to import are left out (and logged), so routing never crashes.
        """
        chosen: list[str] = []
        for name in self._entries:
            try:
                cls = self.get(name)
            except ToolLoadError as exc:
                log.warning("routing skips %s", exc)
                continue
            if cls.consumes & present:
                chosen.append(name)
        return chosen


def _dist_name(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return (dist.metadata["Name"] or "") if dist is not None else ""


def _is_builtin(ep: EntryPoint) -> bool:
    return getattr(ep, "dist", None) is None or _dist_name(ep) == DISTRIBUTION


def _describe(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    owner = f"{_dist_name(ep)} {dist.version}" if dist is not None else "built-in"
    return f"{owner} entry point {ep.name} = {ep.value}"


def _check_class(obj: object, source: str) -> type[ConvrecTool]:
    if isinstance(obj, type) and issubclass(obj, ConvrecTool) and obj is not ConvrecTool:
        return obj
    raise ToolLoadError(f"{source} does not point to a ConvrecTool subclass (got {obj!r})")
