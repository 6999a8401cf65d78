"""The error hierarchy of ``toolkit``.

Every error the toolkit raises on purpose is a :class:`ToolkitError`; each
subclass also inherits the builtin a caller would naturally catch::

    ToolkitError (Exception)
    ├── ConfigError (ValueError)        a bad option or argument, found before any work starts
    │   └── OptionError                 one naming options: as parameters, or as the CLI's flags
    ├── InputError (OSError)            a path that is missing, unreadable or matches nothing
    │   └── DecodeError (UnicodeError)  bytes that are not valid text in the chosen encoding
    ├── CheckpointError (RuntimeError)  no usable checkpoint, or one of another job
    ├── ClusterError (ConnectionError)  a scheduler that cannot be reached or was lost
    ├── JobError (RuntimeError)         user code failed inside a map or reduce task
    ├── OutputError (OSError)           a result that cannot be written
    └── SourceError (RuntimeError)      a stream source that cannot start or read

    ToolkitWarning (UserWarning)        something the user should know; the work goes on
    ├── CheckpointWarning               a corrupt checkpoint was skipped for an older one
    └── SourceWarning                   a source could not resume exactly where it was

The CLI prints ``str(error)`` as one line and exits non-zero; a traceback
means a bug in the toolkit.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

__all__ = [
    "CheckpointError",
    "CheckpointWarning",
    "ClusterError",
    "ConfigError",
    "DecodeError",
    "InputError",
    "JobError",
    "OptionError",
    "OutputError",
    "SourceError",
    "SourceWarning",
    "ToolkitError",
    "ToolkitWarning",
]


class ToolkitError(Exception):
    """Root of every error the toolkit raises on purpose."""


class ConfigError(ToolkitError, ValueError):
    """An option or argument has a value the toolkit cannot use."""


class OptionError(ConfigError):
    """A bad option value or combination, naming the options as the caller knows them.

    The message is a template whose fields are option names (``{lateness}``,
    with the value's form after a colon: ``{count:N}``) or values given as
    keywords.  ``str()`` names Python parameters; the CLI says its flags
    (:meth:`said`).

    Examples
    --------
    >>> err = OptionError("{lateness} needs {event_time:FIELD}; got {value!r}", value="2s")
    >>> str(err)
    "lateness needs event_time; got '2s'"
    >>> err.said(lambda name: "--" + name.replace("_", "-"))
    "--lateness needs --event-time FIELD; got '2s'"
    """

    def __init__(self, template: str, **values: Any) -> None:
        self.template, self.values = template, values
        super().__init__(self.said(str, forms=False))

    def said(self, name: Callable[[str], str], *, forms: bool = True) -> str:
        """The message with each option named by ``name(parameter)`` (and its form)."""
        out = []
        for text, field, spec, conversion in string.Formatter().parse(self.template):
            out.append(text)
            if field is None:
                continue
            if field in self.values:
                value = self.values[field]
                value = repr(value) if conversion == "r" else value
                out.append(format(value, spec or ""))
            else:
                out.append(name(field) + (f" {spec}" if forms and spec else ""))
        return "".join(out)


class InputError(ToolkitError, OSError):
    """An input path is missing, unreadable, or a pattern matches nothing."""

    def __str__(self) -> str:  # OSError's str() would prefix an errno
        return str(self.args[0]) if self.args else ""


class DecodeError(InputError, UnicodeError):
    """Input bytes are not valid text in the chosen encoding (``errors="strict"``)."""


class CheckpointError(ToolkitError, RuntimeError):
    """No checkpoint in the directory can be used, or it belongs to another job."""


class ClusterError(ToolkitError, ConnectionError):
    """The Dask scheduler cannot be reached, or the connection to it was lost."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class JobError(ToolkitError, RuntimeError):
    """User code (a mapper or reducer) raised inside a task."""


class OutputError(ToolkitError, OSError):
    """A result cannot be written to its destination."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SourceError(ToolkitError, RuntimeError):
    """A stream source cannot start, or failed while reading."""


class ToolkitWarning(UserWarning):
    """Something went differently than asked but the work goes on (the CLI prints one line)."""


class CheckpointWarning(ToolkitWarning):
    """A checkpoint was skipped (corrupt or half-written); an older one is used."""


class SourceWarning(ToolkitWarning):
    """A source could not resume exactly where a checkpoint left it; the message says what."""
