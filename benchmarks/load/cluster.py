"""A private PostgreSQL cluster on a free port of 127.0.0.1, started with the system's binaries.

The load and fault runs restart PostgreSQL on purpose, so they never use the machine's shared
server: ``private_cluster()`` runs initdb into a temporary folder, starts the cluster with
pg_ctl, yields it, then stops it and removes the folder. As root, initdb and pg_ctl run as the
``postgres`` user, which the Debian package creates, because initdb refuses to run as root.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BINARIES_GLOB = "/usr/lib/postgresql/*/bin"
COMMAND_TIMEOUT_S = 60
# Enough for 2 × gunicorn workers, the checks and the management commands, with room to spare.
MAX_CONNECTIONS = 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def binaries_dir() -> Path:
    candidates = list(Path("/").glob(BINARIES_GLOB.lstrip("/")))
    if not candidates:
        raise RuntimeError(f"No PostgreSQL binaries under {BINARIES_GLOB}: install postgresql.")
    # The highest major version: the folder above bin/ is named after it.
    return max(candidates, key=lambda p: int(p.parent.name))


@dataclass
class Cluster:
    data_dir: Path
    port: int
    bin_dir: Path
    run_as: list[str]

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def pg_ctl(self, *args: str) -> None:
        command = [*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args]
        subprocess.run(command, check=True, timeout=COMMAND_TIMEOUT_S, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} -N {MAX_CONNECTIONS}"
        self.pg_ctl("-l", str(self.data_dir / "server.log"), "-w", "-o", options, "start")

    def restart(self, outage_s: float = 0) -> None:
        """Restart with the "fast" shutdown mode: open sessions are ended, not waited for.

        With ``outage_s``, the cluster stays stopped that long before it starts again, as a
        slower restart or a failover would keep it.
        """
        if outage_s <= 0:
            self.pg_ctl("-m", "fast", "-w", "restart")
            return
        self.pg_ctl("-m", "fast", "-w", "stop")
        time.sleep(outage_s)
        self.start()

    def stop(self) -> None:
        self.pg_ctl("-m", "immediate", "-w", "stop")

    def log_tail(self, lines: int = 30) -> str:
        log = self.data_dir / "server.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """Create, start and yield a throwaway cluster; stop it and delete its files at exit."""
    bin_dir = binaries_dir()
    folder = Path(tempfile.mkdtemp(prefix="suivi-load-pg-"))
    data_dir = folder / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    cluster = Cluster(data_dir, free_port(), bin_dir, run_as)
    started = False
    try:
        subprocess.run(
            [
                *run_as,
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            timeout=COMMAND_TIMEOUT_S,
            stdout=subprocess.DEVNULL,
        )
        # fsync only protects against a crash of the operating system, which no run causes, and
        # skipping it keeps the data load short. Commits still wait for their WAL write, so a
        # PostgreSQL restart loses no acknowledged transaction, as in production.
        with (data_dir / "postgresql.conf").open("a") as conf:
            conf.write("fsync = off\n")
        cluster.start()
        started = True
        yield cluster
    finally:
        if started:
            try:
                cluster.stop()
            except subprocess.SubprocessError:
                pass
        shutil.rmtree(folder, ignore_errors=True)
