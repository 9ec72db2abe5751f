"""A throwaway PostgreSQL cluster for the test run: initdb + pg_ctl on a loopback port.

Debian's server binaries are used directly; as root the cluster runs as the `postgres` user because
initdb refuses root. Durability is switched off: the cluster lives only as long as the test run.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.live import free_port


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        raise RuntimeError(f"PostgreSQL's {name} was not found; install Debian's postgresql package")
    return candidates[-1]


def postgres_available() -> bool:
    try:
        _bin("initdb")
        return True
    except RuntimeError:
        return False


# A test run writes about 1.5 GB of databases per cluster (one per test, copied from a template).
MEMORY_DIR_NEEDS = 6 * 1024**3


def _memory_dir() -> str | None:
    """/dev/shm when it is a roomy tmpfs (no disk writes, and removing the cluster at the end takes no
    time); else the default temporary directory (a container's /dev/shm is often only 64 MB)."""
    shm = "/dev/shm"
    try:
        roomy = os.access(shm, os.W_OK) and shutil.disk_usage(shm).free >= MEMORY_DIR_NEEDS
    except OSError:
        return None
    return shm if roomy else None


class ThrowawayPostgres:
    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="meetings-pg-", dir=_memory_dir()))
        self.data = self.root / "data"
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
            record = pwd.getpwnam("postgres")
            os.chown(self.root, record.pw_uid, record.pw_gid)
        self._counter = 0

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_postgres, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        self._run(_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.root}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=400",
                "-c shared_buffers=128MB",
            ]
        )
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-l", str(self.root / "log"), "start")

    def stop(self) -> None:
        try:
            self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname={database}", autocommit=True) as c:
            c.execute(sql)  # type: ignore[arg-type]

    def create_database(self, *, template: str | None = None) -> str:
        self._counter += 1
        name = f"test_{os.getpid()}_{self._counter}"
        suffix = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        self.execute(f'CREATE DATABASE "{name}"{suffix}')
        return name
