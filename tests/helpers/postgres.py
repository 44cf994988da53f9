"""A PostgreSQL server for the store's tests: the one CI started, else one started here.

CI (``.ci/run``) starts a server and names it in ``BATCHFSM_TEST_POSTGRES_DSN``. Without that
variable, outside CI, a throwaway cluster is made in a temporary directory if PostgreSQL's
binaries are installed, as the invoking user or, for root, as ``postgres``; otherwise the
PostgreSQL tests are skipped. In CI (``CI`` set) a missing server fails them instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ENV = "BATCHFSM_TEST_POSTGRES_DSN"


def binaries() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: on PATH, or Debian's newest."""
    found = shutil.which("pg_ctl")
    if found is not None and shutil.which("initdb") is not None:
        return Path(found).resolve().parent
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(bindir) / "pg_ctl").is_file() and (Path(bindir) / "initdb").is_file():
            return Path(bindir)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def temporary_server(bindir: Path) -> Iterator[str]:
    """A cluster in a temporary directory, on 127.0.0.1 and a free port, trusting local
    connections; its DSN while the block runs, then stopped and removed.

    PostgreSQL refuses to run as root: as root, it runs as the ``postgres`` user.
    """
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip(
                "running as root, and there is no runuser to start PostgreSQL as another user"
            )
        try:
            import pwd

            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root, and there is no 'postgres' user to run PostgreSQL as")
        prefix = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="batchfsm-pg-"))
    if prefix:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, log = root / "data", root / "log"
    port = _free_port()

    def run(*command: str) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    try:
        run(
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "batchfsm",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--no-locale",
        )
        # fsync off: the tests crash clients, never the server; it makes them faster.
        options = f"-h 127.0.0.1 -p {port} -k {root} -F -c max_connections=200"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start")
        try:
            yield f"host=127.0.0.1 port={port} user=batchfsm dbname=postgres"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def postgres_dsn() -> Iterator[str]:
    """The DSN of a server for the session (a fixture's body): CI's, or a throwaway one."""
    dsn = os.environ.get(ENV)
    in_ci = bool(os.environ.get("CI"))
    if in_ci:
        import psycopg  # noqa: F401  (in CI, a missing driver fails the tests, not skips them)
    else:
        pytest.importorskip("psycopg", reason="psycopg is not installed (batchfsm[postgres])")
    if dsn:
        yield dsn
        return
    if in_ci:
        pytest.fail(f"{ENV} is not set: in CI the PostgreSQL tests need the server .ci/run starts")
    bindir = binaries()
    if bindir is None:
        pytest.skip(f"no PostgreSQL binaries, and {ENV} is not set")
    with temporary_server(bindir) as started:
        yield started


@contextmanager
def schema(dsn: str) -> Iterator[str]:
    """A new, empty schema on the server for one test: a DSN whose ``search_path`` is it,
    so that the store's tables land there; dropped afterwards."""
    import secrets

    import psycopg
    from psycopg.conninfo import make_conninfo

    name = "test_" + secrets.token_hex(6)
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    try:
        yield make_conninfo(dsn, options=f"-c search_path={name}")
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {name} CASCADE")
