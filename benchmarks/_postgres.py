"""A PostgreSQL server of a benchmark's own: initdb in a folder, started on a free loopback
port (as the `postgres` user when run as root: initdb and postgres refuse root), with
fsync and synchronous commit on, as in production; and the signals a fault benchmark sends
to every one of its processes."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Postgres:
    def __init__(self, folder: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version)
        if not found:
            raise SystemExit("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin)")
        self.bin = Path(found[-1]).parent
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.log = open(folder / "postgres.log", "ab")  # noqa: SIM115 - kept for the run
        self.process: subprocess.Popen | None = None
        self.as_user: dict = {}
        if os.geteuid() == 0:  # initdb and postgres refuse root
            owner = pwd.getpwnam("postgres")
            self.as_user = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
            os.chown(folder, owner.pw_uid, owner.pw_gid)

    def initdb(self) -> None:
        subprocess.run(  # noqa: S603
            [
                self.bin / "initdb",
                "-D",
                self.data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            **self.as_user,
        )

    def start(self) -> float:
        """Start the server; return the seconds until it accepts connections."""
        started = time.monotonic()
        self.process = subprocess.Popen(  # noqa: S603
            [
                self.bin / "postgres",
                "-D",
                self.data,
                "-p",
                str(self.port),
                "-k",
                self.folder,
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=on",
                "-c",
                "synchronous_commit=on",
                "-c",
                "max_connections=60",
                "-c",
                "shared_buffers=64MB",
            ],
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
            **self.as_user,
        )
        import psycopg

        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return time.monotonic() - started
            except psycopg.Error:
                if self.process.poll() is not None:
                    raise SystemExit(
                        f"postgres exited; see {self.folder / 'postgres.log'}"
                    ) from None
                time.sleep(0.1)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def processes(self) -> list[int]:
        """The postmaster and its children (backends and helpers, each in a process group
        of its own: PostgreSQL calls setsid() in every child)."""
        pids = [self.process.pid]
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:  # the parent's pid
                pids.append(int(stat.split("/")[2]))
        return pids

    def signal(self, number: int) -> None:
        """To every process of the server, the postmaster first (it forks no more)."""
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, number)

    def kill(self) -> None:
        children = self.processes()
        self.signal(signal.SIGKILL)
        self.process.wait()
        for pid in children[1:]:  # gone with the group, or reaped by init: wait for it
            while Path(f"/proc/{pid}").exists():
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _version(path: str) -> float:
    match = re.search(r"/postgresql/([\d.]+)/", path)
    return float(match.group(1)) if match else 0.0
