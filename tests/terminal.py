"""Run a command as a terminal runs it: on a pseudo-terminal, in its own foreground process group.

Ctrl-C here is the byte 0x03 written to the terminal: the kernel's line discipline
turns it into SIGINT for the whole foreground process group (the command and every
process it started, as the embedded cluster's workers), exactly as in a real
terminal.  ``kill -- -PGID`` is :meth:`Terminal.signal_group`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import subprocess
import termios
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

__all__ = ["Terminal"]


class Terminal:
    """A command on a pseudo-terminal: stdin and stderr are the terminal, stdout a file.

    Use as a context manager; on exit the whole process group is killed if still there.
    """

    def __init__(
        self, argv: Sequence[str], *, stdout: Path, cwd: Path | None = None, env: dict | None = None
    ) -> None:
        master, slave = pty.openpty()
        self.master = master
        self.stdout_path = stdout
        self._stdout: IO[bytes] = open(stdout, "wb")  # noqa: SIM115  (closed in close())
        self.screen = b""  # what the command wrote to the terminal (its stderr)

        def become_terminal_session() -> None:
            os.setsid()  # a new session and process group ...
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)  # ... whose terminal this is: the foreground
            # a runner started in the background ignores SIGINT and its children inherit that
            signal.signal(signal.SIGINT, signal.SIG_DFL)

        self.proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=self._stdout,
            stderr=slave,
            cwd=cwd,
            env=env,
            preexec_fn=become_terminal_session,
        )
        os.close(slave)

    def read(self, timeout: float) -> bytes:
        """Read what the terminal shows for up to ``timeout`` seconds (less if the command ends)."""
        got = b""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.1))
            if not ready:
                if self.proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:  # the command and all its processes closed the terminal
                break
            if not data:
                break
            got += data
        self.screen += got
        return got

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[bytes]:
        """Read until the screen matches ``pattern`` (a regex over bytes)."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern.encode(), self.screen)
            if match:
                return match
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.read(0.2)
                match = re.search(pattern.encode(), self.screen)
                if match:
                    return match
                raise AssertionError(f"{pattern!r} not seen; the terminal shows:\n{self.text}")
            self.read(0.1)

    def ctrl_c(self) -> None:
        """Type Ctrl-C: SIGINT to the whole foreground process group."""
        os.write(self.master, b"\x03")

    def signal_group(self, sig: int) -> None:
        """``kill -SIG -- -PGID``: the signal to every process of the command's group."""
        os.killpg(self.proc.pid, sig)

    def signal_main(self, sig: int) -> None:
        """The signal to the command's main process alone."""
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int | None:
        """The exit code once the command ends within ``timeout`` seconds, else None."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.read(0.1)
        self.read(0.3)  # what was written just before the end
        return self.proc.poll()

    @property
    def text(self) -> str:
        return self.screen.decode("utf-8", errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)
        self._stdout.close()

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
