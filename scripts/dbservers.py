#!/usr/bin/env python3
"""Start and stop private PostgreSQL and MariaDB servers for the test suite.

    python3 scripts/dbservers.py start --state FILE [--only postgresql|mariadb]
    python3 scripts/dbservers.py env   --state FILE
    python3 scripts/dbservers.py stop  --state FILE
    python3 scripts/dbservers.py install [--only postgresql|mariadb]

``start`` creates each server in a fresh temporary directory, listening on
127.0.0.1 on a free port (plus a unix socket inside that directory), creates
the database ``limbeck_test`` and a user ``limbeck`` with a random password,
records everything in the state file and prints shell ``export`` lines for
``LIMBECK_TEST_POSTGRESQL_URL`` and ``LIMBECK_TEST_MARIADB_URL`` on stdout::

    eval "$(python3 scripts/dbservers.py start --state /tmp/limbeck-db.json)"

``env`` prints the same export lines again from the state file. ``stop`` stops
the servers recorded in the state file and removes their directories.
``install`` only makes sure the server binaries are present (it runs
apt-get when they are missing and we are root); ``start`` does that too.

The servers are throwaway: durability is switched off for speed. Progress and
errors go to stderr; only the export lines go to stdout. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

BACKENDS = ("postgresql", "mariadb")
ENV_VARS = {
    "postgresql": "LIMBECK_TEST_POSTGRESQL_URL",
    "mariadb": "LIMBECK_TEST_MARIADB_URL",
}
DB_NAME = "limbeck_test"
DB_USER = "limbeck"
PG_VERSION = "15"
START_TIMEOUT = float(os.environ.get("LIMBECK_DB_START_TIMEOUT", "60"))
STOP_TIMEOUT = 20.0
LOG_TAIL_LINES = 40
STATE_VERSION = 1

_print_lock = threading.Lock()
# Servers started by this process, so that stopping one here also reaps it.
_spawned: dict[int, subprocess.Popen[bytes]] = {}


class ServerError(Exception):
    """A server could not be installed, started or set up."""


def log(message: str) -> None:
    with _print_lock:
        print(f"dbservers: {message}", file=sys.stderr, flush=True)


def is_root() -> bool:
    return os.geteuid() == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    tail = text.splitlines()[-lines:]
    return "\n".join(f"    | {line}" for line in tail) if tail else "    | (empty)"


def run(
    argv: Sequence[str],
    *,
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
    user: int | None = None,
    group: int | None = None,
    cwd: Path | None = None,
    stdout: int | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a short helper command; raise ServerError with its output on failure."""
    extra: dict[str, object] = {}
    if user is not None:
        extra = {"user": user, "group": group, "extra_groups": []}
    try:
        result: subprocess.CompletedProcess[str] = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
            check=False,
            **extra,  # type: ignore[call-overload]
        )
    except subprocess.TimeoutExpired as exc:
        raise ServerError(f"timed out after {timeout:.0f}s: {shlex.join(argv)}") from exc
    except OSError as exc:
        raise ServerError(f"cannot run {shlex.join(argv)}: {exc}") from exc
    if check and result.returncode != 0:
        output = (result.stdout or "").strip()
        raise ServerError(
            f"command failed with exit code {result.returncode}: {shlex.join(argv)}\n{output}"
        )
    return result


# --------------------------------------------------------------------------- install


def apt_install(packages: Sequence[str]) -> None:
    if not is_root() or shutil.which("apt-get") is None:
        raise ServerError(
            f"missing server binaries; install the Debian packages {' '.join(packages)} "
            "(or run this script as root on Debian to have it install them)"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Keep apt from starting the distribution's own server as a service while
    # installing: we start private ones. Only done when no policy exists yet.
    policy = Path("/usr/sbin/policy-rc.d")
    made_policy = False
    if not policy.exists():
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        made_policy = True
    try:
        log(f"installing {' '.join(packages)} with apt-get (this can take a minute)")
        lock = ["-o", "DPkg::Lock::Timeout=600"]
        run(["apt-get", *lock, "update", "-q"], timeout=900, env=env)
        run(
            ["apt-get", *lock, "install", "-y", "-q", "--no-install-recommends", *packages],
            timeout=1800,
            env=env,
        )
    finally:
        if made_policy:
            policy.unlink(missing_ok=True)


def pg_bindir() -> Path | None:
    override = os.environ.get("LIMBECK_PG_BINDIR")
    if override:
        return Path(override)
    preferred = Path(f"/usr/lib/postgresql/{PG_VERSION}/bin")
    if (preferred / "postgres").exists():
        return preferred
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("postgres")
    if found and shutil.which("initdb"):
        return Path(found).parent
    return None


def mariadb_tools() -> dict[str, str] | None:
    names = {
        "server": ("mariadbd", "mysqld"),
        "install_db": ("mariadb-install-db", "mysql_install_db"),
        "client": ("mariadb", "mysql"),
    }
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin"])
    tools: dict[str, str] = {}
    for role, candidates in names.items():
        for name in candidates:
            found = shutil.which(name, path=search)
            if found:
                tools[role] = found
                break
        else:
            return None
    return tools


def ensure_installed(backends: Sequence[str]) -> None:
    missing: list[str] = []
    if "postgresql" in backends and pg_bindir() is None:
        missing += [f"postgresql-{PG_VERSION}", f"postgresql-client-{PG_VERSION}"]
    if "mariadb" in backends and mariadb_tools() is None:
        missing += ["mariadb-server", "mariadb-client"]
    if missing:
        apt_install(missing)
    if "postgresql" in backends and pg_bindir() is None:
        raise ServerError("PostgreSQL binaries still not found after installing")
    if "mariadb" in backends and mariadb_tools() is None:
        raise ServerError("MariaDB binaries still not found after installing")


# --------------------------------------------------------------------------- servers


@dataclass
class Server:
    backend: str
    pid: int
    pgid: int
    base_dir: str
    data_dir: str
    socket_dir: str
    port: int
    log: str
    url: str

    @property
    def env_var(self) -> str:
        return ENV_VARS[self.backend]


def unprivileged_ids() -> tuple[int, int] | None:
    """The (uid, gid) to run PostgreSQL as: nobody when root, else ourselves."""
    if not is_root():
        return None
    entry = pwd.getpwnam(os.environ.get("LIMBECK_PG_USER", "nobody"))
    return entry.pw_uid, entry.pw_gid


def spawn(
    argv: Sequence[str], log_path: Path, cwd: Path, ids: tuple[int, int] | None = None
) -> subprocess.Popen[bytes]:
    """Start a long-running server in its own session, output to log_path."""
    extra: dict[str, object] = {}
    if ids is not None:
        extra = {"user": ids[0], "group": ids[1], "extra_groups": []}
    with open(log_path, "ab") as log_file:
        proc: subprocess.Popen[bytes] = subprocess.Popen(  # type: ignore[call-overload]
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
            **extra,
        )
    _spawned[proc.pid] = proc
    return proc


def wait_ready(
    name: str,
    proc: subprocess.Popen[bytes],
    log_path: Path,
    probe: Callable[[], bool],
    timeout: float = START_TIMEOUT,
) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        code = proc.poll()
        if code is not None:
            raise ServerError(
                f"{name} exited with code {code} while starting; its log ended with:\n"
                + log_tail(log_path)
            )
        if probe():
            return
        if time.monotonic() > deadline:
            raise ServerError(
                f"{name} did not accept connections within {timeout:.0f}s; "
                "its log ended with:\n" + log_tail(log_path)
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def port_in_use_error(log_path: Path) -> bool:
    try:
        text = log_path.read_text(errors="replace").lower()
    except OSError:
        return False
    return "address already in use" in text


def start_postgresql(password: str) -> Server:
    bindir = pg_bindir()
    if bindir is None:
        raise ServerError("PostgreSQL binaries not found")
    ids = unprivileged_ids()
    base = Path(tempfile.mkdtemp(prefix="limbeck-pg-"))
    try:
        data = base / "data"
        log_path = base / "postgresql.log"
        if ids is not None:
            os.chown(base, *ids)
        log_path.touch()
        run(
            [
                str(bindir / "initdb"),
                "--pgdata",
                str(data),
                "--username",
                "postgres",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--auth-local",
                "trust",
                "--auth-host",
                "scram-sha-256",
                "--no-sync",
                "--no-instructions",
            ],
            user=ids[0] if ids else None,
            group=ids[1] if ids else None,
            cwd=base,
            timeout=120,
        )
        proc: subprocess.Popen[bytes] | None = None
        for _attempt in range(3):
            port = free_port()
            proc = spawn(
                [
                    str(bindir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={base}",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=200",
                    "-c",
                    "log_min_messages=warning",
                ],
                log_path,
                cwd=base,
                ids=ids,
            )
            psql = [
                str(bindir / "psql"),
                "--no-psqlrc",
                "--quiet",
                "--set",
                "ON_ERROR_STOP=1",
                "--host",
                str(base),
                "--port",
                str(port),
                "--username",
                "postgres",
                "--dbname",
                "postgres",
            ]

            def probe(psql: list[str] = psql) -> bool:
                return (
                    run([*psql, "--command", "SELECT 1"], check=False, timeout=10).returncode == 0
                )

            try:
                wait_ready("PostgreSQL", proc, log_path, probe)
                break
            except ServerError:
                if proc.poll() is not None and port_in_use_error(log_path):
                    log(f"PostgreSQL: port {port} was taken, trying another")
                    continue
                stop_process(proc.pid, proc.pid, signal.SIGINT, "PostgreSQL", proc=proc)
                raise
        else:
            raise ServerError("PostgreSQL: could not find a free port")
        assert proc is not None
        server = Server(
            backend="postgresql",
            pid=proc.pid,
            pgid=proc.pid,
            base_dir=str(base),
            data_dir=str(data),
            socket_dir=str(base),
            port=port,
            log=str(log_path),
            url=f"postgresql+psycopg2://{DB_USER}:{password}@127.0.0.1:{port}/{DB_NAME}",
        )
        try:
            run(
                [
                    *psql,
                    "--command",
                    f"CREATE ROLE {DB_USER} LOGIN CREATEDB PASSWORD '{password}'",
                    "--command",
                    f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}",
                ]
            )
            # Prove the URL works: password login over TCP.
            run(
                [
                    str(bindir / "psql"),
                    "--no-psqlrc",
                    "--set",
                    "ON_ERROR_STOP=1",
                    f"postgresql://{DB_USER}@127.0.0.1:{port}/{DB_NAME}",
                    "--command",
                    "SELECT 1",
                ],
                env=dict(os.environ, PGPASSWORD=password),
            )
        except ServerError:
            stop_server(server, proc=proc)
            raise
        return server
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise


def start_mariadb(password: str) -> Server:
    tools = mariadb_tools()
    if tools is None:
        raise ServerError("MariaDB binaries not found")
    base = Path(tempfile.mkdtemp(prefix="limbeck-mariadb-"))
    try:
        data = base / "data"
        log_path = base / "mariadb.log"
        sock = base / "mariadbd.sock"
        user_opt = ["--user=root"] if is_root() else []
        common = [
            "--no-defaults",
            f"--datadir={data}",
            *user_opt,
            "--skip-name-resolve",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=128M",
            "--innodb-log-file-size=64M",
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-doublewrite=0",
            "--innodb-flush-method=nosync",
            "--innodb-use-native-aio=0",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
        ]
        with open(log_path, "ab") as log_file:
            install = run(
                [
                    tools["install_db"],
                    *common,
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    f"--tmpdir={base}",
                ],
                cwd=base,
                timeout=180,
                stdout=log_file.fileno(),
                check=False,
            )
        if install.returncode != 0:
            raise ServerError(
                f"mariadb-install-db failed with exit code {install.returncode}; "
                "its log ended with:\n" + log_tail(log_path)
            )
        client = [
            tools["client"],
            "--no-defaults",
            "--protocol=socket",
            f"--socket={sock}",
            "--user=root",
            "--batch",
            "--skip-column-names",
        ]

        def probe() -> bool:
            return run([*client, "--execute", "SELECT 1"], check=False, timeout=10).returncode == 0

        proc: subprocess.Popen[bytes] | None = None
        for _attempt in range(3):
            port = free_port()
            proc = spawn(
                [
                    tools["server"],
                    *common,
                    f"--port={port}",
                    "--bind-address=127.0.0.1",
                    f"--socket={sock}",
                    f"--pid-file={base / 'mariadbd.pid'}",
                    f"--log-error={log_path}",
                    f"--tmpdir={base}",
                    "--max-connections=300",
                ],
                base / "mariadbd.out",
                cwd=base,
            )
            try:
                wait_ready("MariaDB", proc, log_path, probe)
                break
            except ServerError:
                if proc.poll() is not None and port_in_use_error(log_path):
                    log(f"MariaDB: port {port} was taken, trying another")
                    continue
                stop_process(proc.pid, proc.pid, signal.SIGTERM, "MariaDB", proc=proc)
                raise
        else:
            raise ServerError("MariaDB: could not find a free port")
        assert proc is not None
        server = Server(
            backend="mariadb",
            pid=proc.pid,
            pgid=proc.pid,
            base_dir=str(base),
            data_dir=str(data),
            socket_dir=str(base),
            port=port,
            log=str(log_path),
            url=f"mysql+pymysql://{DB_USER}:{password}@127.0.0.1:{port}/{DB_NAME}",
        )
        setup_sql = "; ".join(
            [
                # Drop anonymous accounts and root@<hostname> (which only makes
                # --skip-name-resolve log warnings).
                "DELETE FROM mysql.global_priv"
                " WHERE User = '' OR Host NOT IN ('localhost', '127.0.0.1', '::1')",
                "DELETE FROM mysql.proxies_priv"
                " WHERE Host NOT IN ('localhost', '127.0.0.1', '::1')",
                "FLUSH PRIVILEGES",
                f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4",
                f"CREATE USER '{DB_USER}'@'127.0.0.1' IDENTIFIED BY '{password}'",
                f"CREATE USER '{DB_USER}'@'localhost' IDENTIFIED BY '{password}'",
                f"GRANT ALL PRIVILEGES ON *.* TO '{DB_USER}'@'127.0.0.1'",
                f"GRANT ALL PRIVILEGES ON *.* TO '{DB_USER}'@'localhost'",
            ]
        )
        try:
            run([*client, "--execute", setup_sql])
            run(
                [
                    tools["client"],
                    "--no-defaults",
                    "--protocol=tcp",
                    "--host=127.0.0.1",
                    f"--port={port}",
                    f"--user={DB_USER}",
                    f"--password={password}",
                    f"--database={DB_NAME}",
                    "--execute",
                    "SELECT 1",
                ]
            )
        except ServerError:
            stop_server(server, proc=proc)
            raise
        return server
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise


STARTERS: dict[str, Callable[[str], Server]] = {
    "postgresql": start_postgresql,
    "mariadb": start_mariadb,
}


# --------------------------------------------------------------------------- stopping


def _proc_state(pid: int) -> str | None:
    """The one-letter state of pid from /proc, or None if it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        return "?"
    return stat.rsplit(")", 1)[-1].split()[0]


def alive(pid: int) -> bool:
    if Path("/proc").is_dir():
        state = _proc_state(pid)
        return state is not None and state not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_our_server(pid: int, data_dir: str) -> bool:
    """Guard against pid reuse: the process must be running on our data dir."""
    proc_dir = Path(f"/proc/{pid}")
    if not proc_dir.is_dir():
        return alive(pid)
    try:
        cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        cmdline = ""
    if data_dir in cmdline:
        return True
    try:
        return os.readlink(proc_dir / "cwd") == data_dir
    except OSError:
        return False


def children(pid: int) -> list[int]:
    """Direct children of pid, from /proc (empty where there is no /proc)."""
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Zombies still count for killpg; look for a live member.
    if Path("/proc").is_dir():
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
            except OSError:
                continue
            if len(fields) > 3 and int(fields[3]) == pgid and fields[0] not in ("Z", "X"):
                return True
        return False
    return True


def stop_process(
    pid: int,
    pgid: int,
    first_signal: signal.Signals,
    name: str,
    proc: subprocess.Popen[bytes] | None = None,
    timeout: float = STOP_TIMEOUT,
) -> None:
    """Signal pid, wait up to timeout for it to exit, then SIGKILL its process group."""

    def gone() -> bool:
        if proc is not None:
            return proc.poll() is not None
        return not alive(pid)

    if not gone():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, first_signal)
        deadline = time.monotonic() + timeout
        while not gone() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not gone():
            log(f"{name} (pid {pid}) did not stop within {timeout:.0f}s; sending SIGKILL")
            # PostgreSQL backends run in process groups of their own, so find
            # the children before their parent dies and they are reparented.
            for child in [pid, *children(pid)]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while not gone() and time.monotonic() < deadline:
                time.sleep(0.05)
    # Children (PostgreSQL backends) of a killed server: sweep the group.
    if _group_alive(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)


def stop_server(server: Server, proc: subprocess.Popen[bytes] | None = None) -> None:
    # SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for
    # clients to disconnect. SIGTERM is MariaDB's normal shutdown.
    first = signal.SIGINT if server.backend == "postgresql" else signal.SIGTERM
    name = "PostgreSQL" if server.backend == "postgresql" else "MariaDB"
    proc = proc or _spawned.get(server.pid)
    if proc is not None or is_our_server(server.pid, server.data_dir):
        stop_process(server.pid, server.pgid, first, name, proc=proc)
    elif alive(server.pid):
        log(f"{name}: pid {server.pid} is no longer our server; not signalling it")
    shutil.rmtree(server.base_dir, ignore_errors=True)


# --------------------------------------------------------------------------- state


def read_state(path: Path) -> dict[str, Server]:
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ServerError(f"cannot read state file {path}: {exc}") from exc
    servers: dict[str, Server] = {}
    for backend, fields in raw.get("servers", {}).items():
        fields = {k: v for k, v in fields.items() if k in Server.__dataclass_fields__}
        servers[backend] = Server(**fields)
    return servers


def write_state(path: Path, servers: dict[str, Server]) -> None:
    payload = {
        "version": STATE_VERSION,
        "servers": {
            name: {**asdict(server), "env_var": server.env_var} for name, server in servers.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(payload, handle, indent=2)
        handle.write("\n")
    os.replace(tmp, path)


def export_lines(servers: dict[str, Server]) -> str:
    return "".join(
        f"export {servers[name].env_var}={shlex.quote(servers[name].url)}\n"
        for name in BACKENDS
        if name in servers
    )


# --------------------------------------------------------------------------- commands


def cmd_install(backends: Sequence[str]) -> int:
    ensure_installed(backends)
    log("server binaries present: " + ", ".join(backends))
    return 0


def cmd_start(state_path: Path, backends: Sequence[str]) -> int:
    existing = read_state(state_path)
    running = [s for s in existing.values() if alive(s.pid) and is_our_server(s.pid, s.data_dir)]
    if running:
        raise ServerError(
            f"state file {state_path} lists running servers "
            f"({', '.join(s.backend for s in running)}); run 'stop --state {state_path}' first"
        )
    ensure_installed(backends)
    started = time.monotonic()
    password = secrets.token_hex(12)
    servers: dict[str, Server] = {}
    errors: list[str] = []
    with ThreadPoolExecutor(max_workers=len(backends)) as pool:
        futures = {name: pool.submit(STARTERS[name], password) for name in backends}
        for name, future in futures.items():
            try:
                servers[name] = future.result()
                write_state(state_path, servers)  # so that 'stop' works even if we die now
            except ServerError as exc:
                errors.append(f"{name}: {exc}")
            except Exception as exc:
                errors.append(f"{name}: unexpected {type(exc).__name__}: {exc}")
    if errors:
        for server in servers.values():
            stop_server(server)
        write_state(state_path, {})
        raise ServerError("could not start the test servers:\n" + "\n".join(errors))
    write_state(state_path, servers)
    for name in backends:
        log(f"{name} ready on 127.0.0.1:{servers[name].port} (pid {servers[name].pid})")
    log(f"started {', '.join(backends)} in {time.monotonic() - started:.1f}s; state {state_path}")
    sys.stdout.write(export_lines(servers))
    sys.stdout.flush()
    return 0


def cmd_env(state_path: Path) -> int:
    servers = read_state(state_path)
    if not servers:
        raise ServerError(f"no servers recorded in {state_path}")
    sys.stdout.write(export_lines(servers))
    return 0


def cmd_stop(state_path: Path, backends: Sequence[str]) -> int:
    servers = read_state(state_path)
    if not servers:
        log(f"no servers recorded in {state_path}; nothing to stop")
        return 0
    started = time.monotonic()
    remaining = dict(servers)
    for name in backends:
        server = remaining.pop(name, None)
        if server is not None:
            stop_server(server)
            log(f"stopped {name} (pid {server.pid})")
    if remaining:
        write_state(state_path, remaining)
    else:
        state_path.unlink(missing_ok=True)
    log(f"stop took {time.monotonic() - started:.1f}s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in ("start", "stop", "env", "install"):
        p = sub.add_parser(command)
        if command != "install":
            p.add_argument("--state", required=True, type=Path, help="state file (JSON)")
        if command != "env":
            p.add_argument(
                "--only", choices=BACKENDS, action="append", help="only this backend (repeatable)"
            )
    args = parser.parse_args(argv)
    backends: tuple[str, ...] = tuple(
        name for name in BACKENDS if not getattr(args, "only", None) or name in args.only
    )
    try:
        if args.command == "start":
            return cmd_start(args.state.resolve(), backends)
        if args.command == "stop":
            return cmd_stop(args.state.resolve(), backends)
        if args.command == "env":
            return cmd_env(args.state.resolve())
        return cmd_install(backends)
    except ServerError as exc:
        log(f"error: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
