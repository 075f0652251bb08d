"""Exception hierarchy shared by every convrec package; user-facing errors carry a fix."""

from __future__ import annotations


class ConvrecError(Exception):
    """Base of all convrec errors."""


class UserFacingError(ConvrecError):
    """An error shown to the user as one line that names the fix; never a traceback.

    Args:
        message: What went wrong.
        fix: What the user should do about it.
    """

    def __init__(self, message: str, fix: str = "") -> None:
        self.message = message
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The error as a single line, with its fix."""
        return f"{self.message} -- fix: {self.fix}" if self.fix else self.message


class DataError(UserFacingError):
    """A catalog or data file is missing or malformed."""


class ModelFileError(UserFacingError):
    """A model file is missing, truncated or has the wrong hash."""


class ArtifactError(UserFacingError):
    """A built artifact (index, graph, CF model) is missing or corrupt."""
