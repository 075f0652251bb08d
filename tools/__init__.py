"""Plugin tools that turn a user profile into scored candidates with evidence, and their registry."""

from tools.base import (
    Candidate,
    Constraints,
    ConvrecTool,
    Evidence,
    InputKind,
    ProfileInputs,
    ToolArgs,
    ToolResources,
    ToolResult,
    ToolState,
)

__all__ = [
    "Candidate",
    "Constraints",
    "ConvrecTool",
    "Evidence",
    "InputKind",
    "ProfileInputs",
    "ToolArgs",
    "ToolResources",
    "ToolResult",
    "ToolState",
]
