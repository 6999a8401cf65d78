"""Test "hosts": Linux network namespaces joined by a bridge, each with a private data folder.

A :class:`Network` makes a switch (a namespace holding a bridge) and hosts, each
its own network namespace and mount namespace, joined to the switch by a veth
pair and given an address in ``10.231.0.0/24``.  Every host sees the machine's
files (the Python install, the project) but its own empty tmpfs over
:attr:`Network.data`, so a file written there on one host exists on no other:
the client, the scheduler and the workers of a real cluster, on one machine.

Each namespace lives as long as a holder process that waits on a pipe from the
test process, so the namespaces go away with the test even if it is killed;
:meth:`Network.close` stops every process a test started on a host first.
Needs root (CI runs as root); without it the harness fails with a clear
message instead of skipping.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["Host", "Network", "network"]

SUBNET = "10.231.0"
BIN = Path(sys.executable).parent
_HOLD = "import sys; sys.stdin.buffer.read()"  # until the test process closes the pipe


def _run(*args: str) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


class _Namespace:
    """A network + mount namespace held open by a process that waits on a pipe."""

    def __init__(self) -> None:
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation=private", sys.executable, "-c", _HOLD],
            stdin=subprocess.PIPE,
        )
        self.pid = self.holder.pid
        deadline = time.monotonic() + 10
        own = os.readlink("/proc/self/ns/net")
        while os.readlink(f"/proc/{self.pid}/ns/net") == own:  # until unshare has exec'd
            if time.monotonic() > deadline or self.holder.poll() is not None:
                raise RuntimeError("unshare did not make a network namespace (root is needed)")
            time.sleep(0.01)

    def enter(self, *args: str) -> list[str]:
        # the working directory is the caller's (nsenter's default is the new root)
        target = ["--target", str(self.pid), "--net", "--mount", f"--wd={os.getcwd()}"]
        return ["nsenter", *target, "--", *args]

    def sh(self, script: str) -> str:
        return _run(*self.enter("sh", "-ec", script))

    def close(self) -> None:
        if self.holder.stdin is not None:
            self.holder.stdin.close()
        try:
            self.holder.wait(10)
        except subprocess.TimeoutExpired:
            self.holder.kill()
            self.holder.wait()


class Host:
    """One machine: an address, a private :attr:`data` folder, and the processes started on it."""

    def __init__(self, network: Network, name: str, index: int) -> None:
        self.network = network
        self.name = name
        self.ip = f"{SUBNET}.{index}"
        self.ns = _Namespace()
        self.procs: list[subprocess.Popen[bytes]] = []
        veth = f"tk{self.ns.pid % 10**7}"
        _run(
            "ip", "link", "add", veth, "netns", str(network.switch.pid), "type", "veth",
            "peer", "name", "eth0", "netns", str(self.ns.pid),
        )  # fmt: skip
        network.switch.sh(f"ip link set {veth} master br0 up")
        self.ns.sh(
            f"ip link set lo up; ip addr add {self.ip}/24 dev eth0; ip link set eth0 up; "
            f"mount -t tmpfs -o size=2g toolkit-{name} {network.data}"
        )
        self.veth = veth

    def __repr__(self) -> str:
        return f"<Host {self.name} {self.ip}>"

    def command(self, *args: str | os.PathLike[str]) -> list[str]:
        """``args`` as a command line that runs on this host."""
        return self.ns.enter(*(os.fspath(a) for a in args))

    def popen(self, *args: str | os.PathLike[str], **kwargs: object) -> subprocess.Popen[bytes]:
        """Start a process on this host, in a session of its own (stopped by :meth:`stop`)."""
        kwargs.setdefault("start_new_session", True)
        proc = subprocess.Popen(self.command(*args), **kwargs)  # type: ignore[call-overload]
        self.procs.append(proc)
        return proc

    def run(
        self, *args: str | os.PathLike[str], timeout: float = 120, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        """Run a command on this host to its end; its output as text."""
        kwargs.setdefault("capture_output", True)
        return subprocess.run(  # type: ignore[call-overload]
            self.command(*args), text=True, timeout=timeout, **kwargs
        )

    def python(self, code: str, *args: str, timeout: float = 60) -> str:
        """Run Python ``code`` on this host; its stdout (a failure raises)."""
        proc = self.run(sys.executable, "-c", code, *args, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"on {self.name}: {proc.stderr.strip()}")
        return proc.stdout

    def write(self, path: str | os.PathLike[str], data: bytes) -> Path:
        """Write a file on this host only (``path`` is under :attr:`Network.data`)."""
        path = Path(path)
        proc = subprocess.run(
            self.command(sys.executable, "-c", _WRITE, str(path)), input=data, timeout=60
        )
        if proc.returncode != 0:
            raise RuntimeError(f"on {self.name}: cannot write {path}")
        return path

    def exists(self, path: str | os.PathLike[str]) -> bool:
        return self.run("test", "-e", path).returncode == 0

    def link(self, up: bool) -> None:
        """Plug this host's cable in or pull it out (its side of the veth pair)."""
        self.ns.sh(f"ip link set eth0 {'up' if up else 'down'}")

    def stop(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to every process started on this host and wait for them."""
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()

    def reachable(self, ip: str, port: int, timeout: float = 1.0) -> bool:
        """Whether a TCP connection from this host to ``ip:port`` succeeds."""
        code = (
            "import socket, sys\n"
            "try:\n"
            f"    socket.create_connection(({ip!r}, {port}), timeout={timeout}).close()\n"
            "except OSError:\n"
            "    sys.exit(1)\n"
        )
        return self.run(sys.executable, "-c", code, timeout=30).returncode == 0


_WRITE = (
    "import pathlib, sys\n"
    "p = pathlib.Path(sys.argv[1]); p.parent.mkdir(parents=True, exist_ok=True)\n"
    "p.write_bytes(sys.stdin.buffer.read())\n"
)


class Network:
    """A switch and named hosts on ``10.231.0.0/24``; see the module's docstring."""

    def __init__(self, names: Sequence[str]) -> None:
        if os.geteuid() != 0:
            raise RuntimeError("the hosts harness needs root (network and mount namespaces)")
        for tool in ("ip", "unshare", "nsenter"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"the hosts harness needs {tool!r} (iproute2, util-linux)")
        self.data = Path(tempfile.mkdtemp(prefix="toolkit-hosts-"))  # each host's own tmpfs
        self.logs = Path(tempfile.mkdtemp(prefix="toolkit-hosts-logs-"))
        self._handles: list[Any] = []
        self.switch = _Namespace()
        self.hosts: dict[str, Host] = {}
        try:
            self.switch.sh("ip link set lo up; ip link add br0 type bridge; ip link set br0 up")
            for i, name in enumerate(names, start=1):
                self.hosts[name] = Host(self, name, i)
        except BaseException:
            self.close()
            raise

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    def close(self) -> None:
        for host in self.hosts.values():
            host.stop()
        for host in self.hosts.values():
            host.ns.close()
        self.switch.close()
        for handle in self._handles:
            handle.close()
        shutil.rmtree(self.logs, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.data.rmdir()  # the tmpfs mounts were in the hosts' namespaces only

    # -- a cluster on the hosts ----------------------------------------------------------

    def scheduler(
        self, host: str, *extra: str, port: int = 8786, env: dict[str, str] | None = None
    ) -> str:
        """Start ``dask scheduler`` on ``host``; its address, once it accepts connections."""
        h = self[host]
        h.popen(
            BIN / "dask", "scheduler", "--host", h.ip, "--port", str(port), "--no-dashboard",
            *extra, env=env, stdout=subprocess.DEVNULL, stderr=self.log(f"{host}-scheduler"),
        )  # fmt: skip
        wait_until(lambda: h.reachable(h.ip, port), f"the scheduler on {h.name}")
        return f"{'tls' if '--tls-cert' in extra else 'tcp'}://{h.ip}:{port}"

    def worker(
        self, host: str, address: str, *extra: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``dask worker`` (one process, one thread unless ``extra`` says) on ``host``."""
        return self[host].popen(
            BIN / "dask", "worker", address, "--nworkers", "1", "--nthreads", "1",
            "--no-dashboard", "--host", self[host].ip, *extra, env=env,
            stdout=subprocess.DEVNULL, stderr=self.log(f"{host}-worker"),
        )  # fmt: skip

    def log(self, name: str) -> Any:
        """A file in :attr:`logs` for a process's stderr (see :meth:`tails`)."""
        handle = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (closed by close())
        self._handles.append(handle)
        return handle

    def tails(self, lines: int = 15) -> str:
        """The last lines of every process's log: for a failing test's message."""
        out = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n" + "\n".join(out)

    def wait_for_workers(self, client_host: str, address: str, n: int, *extra: str) -> None:
        """Wait until the scheduler at ``address`` (seen from ``client_host``) has ``n`` workers."""
        code = (
            "import sys\nfrom distributed import Client\n"
            f"with Client({address!r}, timeout=30{''.join(extra)}) as c:\n"
            f"    c.wait_for_workers({n}, timeout=60)\n"
        )
        self[client_host].python(code, timeout=120)


def wait_until(check: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {timeout:g} s")
        time.sleep(0.2)


@contextlib.contextmanager
def network(*names: str) -> Iterator[Network]:
    """A :class:`Network` of ``names``, torn down however the block ends."""
    net = Network(names)
    try:
        yield net
    finally:
        net.close()
