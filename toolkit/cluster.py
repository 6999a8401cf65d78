"""Connecting to Dask: an embedded local cluster by default, or an existing scheduler.

:func:`connect` returns a :class:`Connection` (a client, plus the cluster it
started, if any).  Jobs take a ``scheduler`` argument resolved by
:func:`using_scheduler`, so one job runs unchanged on dask's local schedulers,
an embedded cluster, or a multi-machine ``dask scheduler`` cluster.
"""

from __future__ import annotations

import contextlib
import html
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any, TypeAlias

import dask

from toolkit.embedded import local_cluster
from toolkit.errors import ClusterError, ConfigError, OptionError

__all__ = [
    "Connection",
    "Scheduler",
    "client_of",
    "configured_address",
    "connect",
    "local_cluster",
    "using_scheduler",
]

LOCAL_SCHEDULERS = ("sync", "synchronous", "single-threaded", "threads", "threading")

DEFAULT_CONNECT_TIMEOUT = 10.0

#: What a job's ``scheduler`` argument accepts.
Scheduler: TypeAlias = "Connection | Any | str | None"


class Connection:
    """A connected Dask client and, for the embedded default, the cluster it owns.

    Use it as a context manager, or call :meth:`close`; closing shuts down an
    embedded cluster but never a cluster the toolkit merely connected to.

    Attributes
    ----------
    client : distributed.Client
        The client; pass the connection (or this) as ``scheduler=`` to jobs.
    cluster : distributed.LocalCluster or None
        The embedded cluster, when :func:`connect` started one.
    """

    def __init__(self, client: Any, cluster: Any = None, *, dashboard: bool = True) -> None:
        self.client = client
        self.cluster = cluster
        self._dashboard = dashboard  # False: started without one (its HTTP server has no pages)
        self._serves_pages: bool | None = None

    @property
    def address(self) -> str:
        """The scheduler's address, e.g. ``tcp://127.0.0.1:40123``."""
        return str(self.client.scheduler.address)

    @property
    def dashboard_link(self) -> str | None:
        """The URL of the Dask dashboard, or None when the scheduler runs none."""
        if not self._dashboard:
            return None
        try:
            if "dashboard" not in self.client.scheduler_info().get("services", {}):
                return None
            if self._serves_pages is None:  # asked once: its HTTP server may have no pages
                self._serves_pages = bool(self.client.run_on_scheduler(_serves_dashboard))
            return str(self.client.dashboard_link) if self._serves_pages else None
        except Exception:  # no dashboard (bokeh missing, or disabled)
            return None

    @property
    def n_workers(self) -> int:
        """How many workers the scheduler has right now."""
        return len(self.client.scheduler_info().get("workers", {}))

    def describe(self) -> str:
        """One line for humans: what is connected, and where the dashboard is."""
        kind = (
            "started a local Dask cluster"
            if self.cluster is not None
            else "connected to the Dask cluster"
        )
        link = self.dashboard_link
        dashboard = f"; dashboard: {link}" if link else "; no dashboard"
        n = self.n_workers
        workers = f"{n} worker{'' if n == 1 else 's'}"
        if self.cluster is not None and not getattr(self.cluster, "processes", True):
            workers += " in this process (threads)"
        return f"{kind} at {self.address} with {workers}{dashboard}"

    def close(self, abort: bool = False) -> None:
        """Close the client, and the embedded cluster if this connection started it.

        With ``abort`` (after Ctrl-C or a failure) the embedded cluster's worker
        processes are killed first instead of being allowed to finish their task.
        """
        with contextlib.suppress(Exception):
            self.client.close(timeout=2 if abort else None)
        if self.cluster is None:
            return
        if abort:
            for pid in self._worker_pids():
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(BaseException):
            self.cluster.close(timeout=5 if abort else None)

    def _worker_pids(self) -> list[int]:
        """The process ids of the embedded cluster's worker processes."""
        pids = []
        for worker in getattr(self.cluster, "workers", {}).values():
            process = getattr(getattr(worker, "process", None), "process", None)
            pid = getattr(process, "pid", None)
            if pid:
                pids.append(int(pid))
        return pids

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<toolkit.Connection {self.address!r} dashboard={self.dashboard_link!r}>"

    def _repr_html_(self) -> str:
        link = self.dashboard_link
        dash = (
            f'<a href="{html.escape(link)}" target="_blank">{html.escape(link)}</a>'
            if link
            else "not running"
        )
        return (
            f"<b>toolkit connection</b><br>scheduler: <code>{html.escape(self.address)}</code>"
            f" ({self.n_workers} workers)<br>dashboard: {dash}"
        )


def _security(
    security: Any, tls_ca_file: str | None, tls_cert: str | None, tls_key: str | None
) -> Any:
    if security is not None:
        return security
    if not (tls_ca_file or tls_cert or tls_key):
        return None
    if not (tls_ca_file and tls_cert):
        raise OptionError(
            "TLS needs at least a CA file and a client certificate ({tls_ca_file}, {tls_cert})"
        )
    for path in (tls_ca_file, tls_cert, tls_key):
        if path and not os.path.isfile(path):
            raise ConfigError(f"TLS file not found: {path!r}")
    from distributed import Security

    return Security(
        tls_ca_file=tls_ca_file,
        tls_client_cert=tls_cert,
        tls_client_key=tls_key,
        require_encryption=True,
    )


def configured_address() -> str | None:
    """The scheduler dask's configuration names (``DASK_SCHEDULER_ADDRESS``,
    ``scheduler-address``), if any."""
    found = dask.config.get("scheduler-address", None) or dask.config.get("scheduler_address", None)
    return found or None


def connect(
    address: str | None = None,
    *,
    scheduler_file: str | None = None,
    security: Any = None,
    tls_ca_file: str | None = None,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    n_workers: int | None = None,
    threads_per_worker: int = 1,
    memory_limit: str | int | None = "auto",
    dashboard_address: str | None = "127.0.0.1:0",
    processes: bool = True,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
    quiet: bool = False,
) -> Connection:
    """Connect to a Dask scheduler, or start an embedded local cluster.

    Without ``address`` or ``scheduler_file``, dask's configuration is used when
    it names a scheduler (``DASK_SCHEDULER_ADDRESS``, ``scheduler-address``);
    otherwise a ``LocalCluster`` of worker processes starts with scheduler,
    workers and dashboard bound to 127.0.0.1.

    Parameters
    ----------
    address
        ``tcp://host:8786``, ``tls://host:8786``, or ``host:port``.
    scheduler_file
        A JSON file written by ``dask scheduler --scheduler-file``.
    security
        A ``distributed.Security`` for TLS; or give the three ``tls_*`` paths.
    n_workers, threads_per_worker, memory_limit, processes
        Shape of the embedded cluster (default: one single-threaded worker
        process per core, memory split evenly).
    dashboard_address
        Where the embedded cluster's dashboard listens (default: a free port on
        127.0.0.1); ``None`` turns it off.
    timeout
        Seconds to wait for the scheduler before giving up.
    quiet
        Do not print the connection line (with the dashboard link) to stderr.

    Returns
    -------
    Connection

    Raises
    ------
    ClusterError
        The scheduler cannot be reached within ``timeout``, or the cluster fails to start.
    ConfigError
        Contradictory or invalid options.

    Examples
    --------
    >>> with connect(n_workers=1, processes=False, quiet=True) as conn:
    ...     conn.address.startswith("tcp://127.0.0.1:"), conn.n_workers
    (True, 1)
    """
    from distributed import Client

    if address and scheduler_file:
        raise ConfigError("give a scheduler address or a scheduler file, not both")
    if not timeout or timeout <= 0:
        raise ConfigError(f"connect timeout must be a positive number of seconds; got {timeout!r}")
    sec = _security(security, tls_ca_file, tls_cert, tls_key)
    if address is None and scheduler_file is None:
        address = configured_address()
    if address is not None or scheduler_file is not None:
        where = address if address is not None else f"scheduler file {scheduler_file!r}"
        if scheduler_file is not None and not os.path.isfile(scheduler_file):
            raise ClusterError(f"scheduler file not found: {scheduler_file!r}")
        if address is not None and "://" not in address:
            address = f"tcp://{address}"
        kwargs: dict[str, Any] = {"timeout": timeout, "set_as_default": False}
        if sec is not None:
            kwargs["security"] = sec
        reason = None
        try:
            client = Client(address, scheduler_file=scheduler_file, **kwargs)
        except Exception as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if reason is not None:  # out of the except block: its traceback holds the Client
            _collect_the_failed_client()
            raise ClusterError(
                f"cannot connect to the Dask scheduler at {where!r} within {timeout:g} s: {reason}"
            )
        conn = Connection(client)
    else:
        conn = _start_local(
            n_workers, threads_per_worker, memory_limit, dashboard_address, processes, sec
        )
    if not quiet:
        print(f"toolkit: {conn.describe()}", file=sys.stderr, flush=True)
    return conn


def _start_local(
    n_workers: int | None,
    threads_per_worker: int,
    memory_limit: str | int | None,
    dashboard_address: str | None,
    processes: bool,
    security: Any,
) -> Connection:
    from distributed import Client

    if n_workers is not None and (not isinstance(n_workers, int) or n_workers < 1):
        raise ConfigError(f"workers must be a positive int; got {n_workers!r}")
    if not isinstance(threads_per_worker, int) or threads_per_worker < 1:
        raise ConfigError(f"threads per worker must be a positive int; got {threads_per_worker!r}")
    if n_workers is None:
        n_workers = max(1, (os.cpu_count() or 1) // threads_per_worker)
    # the scheduler serves HTTP (health, metrics) even without a dashboard: on port
    # 8787 unless told otherwise, so without one it takes a free loopback port instead
    dashboard = dashboard_address is not None
    try:
        cluster = local_cluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=processes,
            memory_limit=memory_limit,
            host="127.0.0.1",
            dashboard_address=dashboard_address if dashboard else "127.0.0.1:0",
            scheduler_kwargs={"dashboard": dashboard},
            worker_dashboard_address=None,
            security=security,
            protocol="tls://" if security is not None else "tcp://",
        )
    except Exception as exc:
        raise ClusterError(f"cannot start the local Dask cluster: {exc}") from exc
    client = Client(cluster, set_as_default=False)
    return Connection(client, cluster, dashboard=dashboard)


def _collect_the_failed_client() -> None:
    """Collect, here and now, the ``Client`` whose start just failed.

    Its constructor raised, so nobody holds it, but it sits in a reference cycle
    until the garbage collector runs, and its ``__del__`` stops its event-loop
    thread and waits for it: run by a collection that happened to start in the
    next Client's new loop thread, it held that Client's start for 10 s, which
    then failed ("cannot connect ... AssertionError").  Collected in this thread,
    the wait is short and nothing else waits on it.
    """
    import gc

    gc.collect()


def _dashboard_probe() -> Any:
    """A function for ``run_on_scheduler``: whether the scheduler's HTTP server has the
    dashboard's pages (``dask scheduler --no-dashboard`` serves health and metrics only).

    Made by a factory, so cloudpickle sends it by value: a scheduler without toolkit
    installed runs it too.
    """
    return lambda dask_scheduler: any(
        "Bokeh" in type(app).__name__
        for app in getattr(getattr(dask_scheduler, "http_application", None), "applications", ())
    )


_serves_dashboard = _dashboard_probe()


@contextlib.contextmanager
def using_scheduler(scheduler: Scheduler = None) -> Iterator[tuple[Any, str | None]]:
    """Resolve a job's ``scheduler`` argument to ``(client, None)`` or ``(None, local_name)``.

    ``scheduler`` may be a :class:`Connection`, a ``distributed.Client``, an
    address string, one of dask's local schedulers (``"sync"``, ``"threads"``),
    or None: the current default client if there is one, else dask's configured
    scheduler address, else an embedded cluster started for this call.
    """
    given = client_of(scheduler)
    if given is not None:
        yield given, None
        return
    if isinstance(scheduler, str) and scheduler in LOCAL_SCHEDULERS:
        yield None, scheduler
        return
    if scheduler is None:
        from distributed import default_client

        try:
            current = default_client()
        except ValueError:  # no default client
            current = None
        if current is not None:
            yield current, None
            return
    assert scheduler is None or isinstance(scheduler, str)  # client_of() checked the rest
    with connect(scheduler, quiet=False) as conn:
        yield conn.client, None


def client_of(scheduler: Scheduler) -> Any:
    """The client a ``scheduler`` argument names outright (a Connection or a Client), else None.

    Any other value must be None, one of dask's local schedulers, or an address:
    anything else is a :class:`~toolkit.errors.ConfigError`, raised here, when
    the job is built.

    Examples
    --------
    >>> client_of(None) is None, client_of("sync") is None
    (True, True)
    >>> try:
    ...     client_of(42)
    ... except ValueError as exc:
    ...     print(str(exc).split("; ")[-1])
    got 42
    """
    if isinstance(scheduler, Connection):
        return scheduler.client
    if scheduler is None or isinstance(scheduler, str):
        return None
    if hasattr(scheduler, "submit") and hasattr(scheduler, "gather"):
        return scheduler
    raise ConfigError(
        "scheduler must be a toolkit Connection, a distributed Client, an address, "
        f"or one of {', '.join(LOCAL_SCHEDULERS)}; got {scheduler!r}"
    )
