"""The ``toolkit`` command line: thin click commands over the public API.

``app`` is the command group; ``batch`` holds ``wordcount``, ``mapreduce`` and
``sample``, ``stream`` the ``stream`` command, ``cluster`` the ``cluster``
command; ``options`` the options they share (cluster, tokenizer, reading,
output).  The docs' CLI reference is made from these commands (sphinx-click).

Errors are caught here only: a :class:`~toolkit.errors.ToolkitError` becomes one
line on stderr and exit 1; a usage error exits 2; Ctrl-C exits 130 and SIGTERM
143, after the cluster work is cancelled.
"""

from __future__ import annotations

import logging
import signal
import sys
import warnings
from typing import Any, NoReturn

import click

from toolkit.cli import batch, cluster, stream  # noqa: F401  (registers the commands)
from toolkit.cli.app import cli
from toolkit.errors import OptionError, ToolkitError, ToolkitWarning
from toolkit.failures import explain
from toolkit.interrupts import Terminated

__all__ = ["cli", "main"]


def _on_sigterm(signum: int, frame: Any) -> NoReturn:
    raise Terminated()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``toolkit`` console script."""
    _quiet_dask_logs()
    _one_line_warnings()
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        cli.main(args=argv, prog_name="toolkit", standalone_mode=False)
        if argv is None:  # the console script, about to exit (not a caller's own process)
            _skip_exit_collection()
    except click.exceptions.Abort:
        click.echo("toolkit: interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("toolkit: interrupted", err=True)
        sys.exit(130)
    except Terminated:
        click.echo("toolkit: terminated", err=True)
        sys.exit(143)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OptionError as exc:  # the API names its parameters; here they are flags
        click.echo(f"toolkit: error: {exc.said(_flag)}", err=True)
        sys.exit(1)
    except ToolkitError as exc:
        click.echo(f"toolkit: error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:
        message = _cluster_failure(exc)
        if message is None:
            raise
        click.echo(f"toolkit: error: {message}", err=True)
        sys.exit(1)


#: API parameters whose flag is not the parameter's name.
_FLAGS = {"journal": "--resume"}


def _flag(parameter: str) -> str:
    """The flag of an API parameter: ``event_time`` is ``--event-time``."""
    return _FLAGS.get(parameter) or "--" + parameter.replace("_", "-")


def _skip_exit_collection() -> None:
    """Let the interpreter exit without collecting the cycles of every module it loaded.

    Python's last garbage collection at exit walks pandas, distributed, numba
    and the rest: 0.4 s of a word count's 3 s on 64 MB.  The command is done
    by now (outputs written, closed and renamed; the cluster closed), so the
    objects are frozen instead: the operating system reclaims their memory.
    Finalizers that are not part of such cycles still run.
    """
    import gc

    gc.freeze()


def _one_line_warnings() -> None:
    """Print the toolkit's own warnings as ``toolkit: warning: ...`` lines on stderr."""
    shown = warnings.showwarning

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, ToolkitWarning):
            click.echo(f"toolkit: warning: {message}", err=True)
        else:
            shown(message, category, *args, **kwargs)

    warnings.showwarning = show


def _quiet_dask_logs() -> None:
    """Keep distributed's INFO chatter (and its shutdown tracebacks) off the user's stderr.

    By dask's configuration, which distributed's import reads to set its loggers: a
    command that needs no cluster does not import distributed at all.

    The client's logger has a level of its own in distributed's defaults (warning): it
    logged each reconnect attempt's traceback at ERROR when a stream's scheduler went away.
    """
    import dask

    quiet = dict.fromkeys(_DISTRIBUTED_LOGGERS, "critical")
    dask.config.set({"logging": {**dask.config.get("logging", default={}), **quiet}})
    if "distributed" in sys.modules:  # already configured by its import
        for name in _DISTRIBUTED_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)


#: distributed's loggers that its configuration sets a level for
_DISTRIBUTED_LOGGERS = ("distributed", "distributed.client")


def _cluster_failure(exc: BaseException) -> str | None:
    """A one-line message for failures that come from the cluster rather than from us."""
    error = explain(exc)
    return None if error is None else str(error)
