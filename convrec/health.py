"""`convrec check`: a self-test of model, catalog, artifacts, tools and session store."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from catalog.errors import UserFacingError


def _run(name: str, fn: Callable[[], Any], checks: dict[str, Any]) -> Any:
    """Run one check into `checks[name]` = {ok, detail, [fix], seconds}; its result or None."""
    start = time.perf_counter()
    try:
        detail = fn()
        checks[name] = {"ok": True, "detail": detail}
        return detail
    except UserFacingError as exc:
        checks[name] = {"ok": False, "detail": exc.one_line(), "fix": exc.fix}
    except Exception as exc:  # noqa: BLE001 - the self-test reports every failure
        checks[name] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
    finally:
        checks[name]["seconds"] = round(time.perf_counter() - start, 3)
    return None


def run_checks(settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Check each component without building or repairing anything.

    Checks, in order: `model` (the GGUF file for llama_cpp), `catalog`, then per registered
    tool `artifacts:<tool>` (its cached files are present and readable) and `tool:<tool>` (it
    opens; skipped when its artifacts failed, since opening would rebuild them), and
    `session_store` (SQLite integrity).

    Returns:
        {"ok": bool, "checks": {name: {"ok", "detail", "fix" (failures that name one),
        "seconds"}}}.
    """
    from agent.model_files import resolve_model_path
    from agent.store import check_sessions
    from catalog.loading import load_catalog
    from tools.base import ToolResources
    from tools.registry import ToolRegistry

    checks: dict[str, Any] = {}
    cache = settings.resolved_cache_dir()
    if settings.backend == "llama_cpp":
        _run("model", lambda: str(resolve_model_path(settings.model, cache)), checks)
    else:
        checks["model"] = {"ok": True, "detail": f"backend {settings.backend}", "seconds": 0}
    catalog = _run("catalog", lambda: load_catalog(settings.catalog, cache, settings.data_dir),
                   checks)
    if catalog is not None:
        checks["catalog"]["detail"] = (f"{catalog.name}: {len(catalog.items)} items, "
                                       f"{len(catalog.interactions)} interactions")
        resources = ToolResources(catalog=catalog, cache_dir=cache, store_url=settings.store_url)
        registry = ToolRegistry()
        for name in registry.names():
            def artifacts(name: str = name) -> str:
                return registry.get(name).check_artifacts(resources)

            def open_tool(name: str = name) -> str:
                return f"{type(registry.create(name, resources)).__name__} ready"

            if _run(f"artifacts:{name}", artifacts, checks) is not None:
                _run(f"tool:{name}", open_tool, checks)
            else:
                checks[f"tool:{name}"] = {"ok": False, "seconds": 0,
                                          "detail": f"not opened: see artifacts:{name}"}
    _run("session_store", lambda: check_sessions(settings), checks)
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}
