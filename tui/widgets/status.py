"""The status bar: model, catalog, GPU/CPU, last turn latency, and whether a turn is running."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


def gpu_offload_supported() -> bool:
    """Whether the installed llama.cpp build can offload layers to a GPU (False on a CPU build)."""
    try:
        import llama_cpp

        return bool(llama_cpp.llama_supports_gpu_offload())
    except (ImportError, AttributeError, OSError):
        return False


def device_label(n_gpu_layers: int) -> str:
    """"GPU" when layers are offloaded and this build can do it, else "CPU"."""
    return "GPU" if n_gpu_layers != 0 and gpu_offload_supported() else "CPU"


class StatusBar(Widget):
    """One line of facts about the running agent.

    `fixed_latency`, when set, is shown instead of the measured latency (deterministic
    screenshots); `None` shows the real one.
    """

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    model: reactive[str] = reactive("")
    catalog: reactive[str] = reactive("")
    device: reactive[str] = reactive("")
    latency: reactive[float | None] = reactive(None)
    busy: reactive[bool] = reactive(False)
    fixed_latency: reactive[float | None] = reactive(None)

    def configure(self, model: str, catalog: str, device: str) -> None:
        """Set the facts that do not change during a run."""
        self.model, self.catalog, self.device = model, catalog, device

    def render(self) -> Content:
        """'model X │ catalog Y │ CPU │ last turn 0.42 s'."""
        if not self.model:
            return Content("starting…")
        latency = self.fixed_latency if self.fixed_latency is not None else self.latency
        turn = "—" if latency is None else f"{latency:.2f} s"
        parts: list[str | tuple[str, str]] = [
            "model ", (self.model, "bold"), " │ catalog ", (self.catalog, "bold"),
            " │ ", (self.device, "bold"), f" │ last turn {turn}"]
        if self.busy:
            parts.append((" │ thinking…", "bold $warning"))
        return Content.assemble(*parts)

    @property
    def plain(self) -> str:
        """The bar's text without styles."""
        return self.render().plain
