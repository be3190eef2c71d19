"""The project's own error types.

Every problem a user can cause raises a :class:`GridcircleError` subclass whose message
comes from the translation table, so the page can show it in the reader's language and
the command line can print both. Anything else that escapes is a bug.
"""

from __future__ import annotations

from geo.i18n import BOTH, Note, note_text, t


class GridcircleError(Exception):
    """Base class: a problem the user can act on, described by a translation key."""

    def __init__(self, key: str, /, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(t(key, "en", **params))

    def message(self, lang: str = "zh") -> str:
        """The message in one language."""
        return note_text(self.note(), lang)

    def bilingual(self) -> str:
        """The message in Chinese then English, for the command line and logs."""
        return note_text(self.note(), BOTH)

    def note(self) -> Note:
        """The message as a note (key and parameters, :data:`geo.i18n.Note`), to carry
        and show later in the reader's language."""
        return {"key": self.key, "params": dict(self.params)}


class InputError(GridcircleError, ValueError):
    """A file, layer or argument given by the user cannot be used as it is."""


class CRSError(InputError):
    """A coordinate reference system is missing, unknown or unsuitable."""


class NetworkError(InputError):
    """The walking network cannot be built or used (no walkable ways, islands, ...)."""


class SettingsError(InputError):
    """A setting is out of its allowed range."""


class ProjectFileError(GridcircleError, OSError):
    """A saved project cannot be read or written."""
