"""`convrec check`: a self-test of model, catalog, artifacts and session store."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from catalog.errors import UserFacingError


def _run(name: str, fn, checks: dict[str, Any]) -> Any:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    try:
        detail = fn()
        checks[name] = {"ok": True, "detail": detail}
        return detail
    except UserFacingError as exc:
        checks[name] = {"ok": False, "detail": exc.one_line()}
    except Exception as exc:  # noqa: BLE001 - the self-test reports every failure
        checks[name] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
    finally:
        checks[name]["seconds"] = round(time.perf_counter() - start, 3)
    return None


def run_checks(settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Check each component and return {"ok": bool, "checks": {name: {ok, detail, seconds}}}."""
    from agent.model_files import resolve_model_path
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
            def open_tool(name: str = name) -> str:
                tool = registry.create(name, resources)
                return f"{type(tool).__name__} ready"
            _run(f"tool:{name}", open_tool, checks)

    def store() -> str:
        path = settings.resolved_sessions_db()
        db = sqlite3.connect(path)
        try:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()
        if result != "ok":
            raise UserFacingError(f"session store {path} is corrupt: {result}",
                                  "move it away; a new one is created on the next run")
        return f"{path}: integrity ok"

    _run("session_store", store, checks)
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}
