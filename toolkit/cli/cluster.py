"""The ``cluster`` command: a local scheduler and workers that stay up until Ctrl-C."""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Any

import click

from toolkit.cli.app import CONTEXT, cli
from toolkit.errors import ClusterError


@cli.command(context_settings=CONTEXT)
@click.option(
    "--workers", type=click.IntRange(min=1), help="Worker processes [default: one per core]."
)
@click.option("--threads-per-worker", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--memory-limit", default="auto", show_default=True, help="Per worker, e.g. 2GiB.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on (0.0.0.0 exposes the cluster to the network).",
)
@click.option(
    "--port",
    type=click.IntRange(min=0),
    default=8786,
    show_default=True,
    help="Scheduler port (0: any free port).",
)
@click.option(
    "--dashboard-address",
    default="127.0.0.1:8787",
    show_default=True,
    help="Where the dashboard listens ('' turns it off).",
)
@click.option(
    "--scheduler-file",
    type=click.Path(dir_okay=False),
    help="Write the scheduler's address here, for --scheduler-file elsewhere.",
)
def cluster(
    workers: int | None,
    threads_per_worker: int,
    memory_limit: str,
    host: str,
    port: int,
    dashboard_address: str,
    scheduler_file: str | None,
) -> None:
    """Start a local Dask cluster that jobs in other terminals can share.

    Prints the scheduler address (give it to --scheduler) and the dashboard link,
    then runs until Ctrl-C or SIGTERM, and stops the workers cleanly (exit 130 or 143).
    """
    import os

    from toolkit.embedded import local_cluster

    stop = threading.Event()
    got: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        got.append(signum)
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        lc = local_cluster(
            n_workers=workers or max(1, (os.cpu_count() or 1) // threads_per_worker),
            threads_per_worker=threads_per_worker,
            memory_limit=None if memory_limit in ("0", "none") else memory_limit,
            host=host,
            scheduler_port=port,
            # without a dashboard the scheduler still serves health and metrics over
            # HTTP: on a free port of the same host, not on 8787
            dashboard_address=dashboard_address or f"{host}:0",
            scheduler_kwargs={"dashboard": bool(dashboard_address)},
            protocol="tcp://",
            fork=False,  # it serves other programs' clients while nannies (re)start workers
        )
    except Exception as exc:
        raise ClusterError(f"cannot start the cluster on {host}:{port}: {exc}") from None
    try:
        address = lc.scheduler_address
        if scheduler_file:
            with open(scheduler_file, "w") as f:
                json.dump({"address": address, "type": "Scheduler"}, f)
        click.echo(f"scheduler: {address}")
        link = lc.dashboard_link if dashboard_address else None
        click.echo(f"dashboard: {link or 'off'}")
        click.echo(f"workers: {len(lc.workers)}; use --scheduler {address}; Ctrl-C stops", err=True)
        while not stop.wait(0.2):
            pass
        click.echo("toolkit: stopping the cluster", err=True)
    finally:
        lc.close(timeout=10)
        for s, h in old.items():
            signal.signal(s, h)
    sys.exit(130 if got[0] == signal.SIGINT else 143)
