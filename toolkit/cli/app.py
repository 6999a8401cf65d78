"""The ``toolkit`` command group."""

from __future__ import annotations

import click

from toolkit import __version__

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100, "terminal_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="toolkit")
def cli() -> None:
    """Batch MapReduce and windowed stream processing on one Dask cluster.

    Without --scheduler, commands start an embedded local Dask cluster (all on
    127.0.0.1) and print its dashboard link on stderr.
    """
