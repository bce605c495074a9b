"""What every benchmark script shares: a workspace that always cleans up, timed child
processes, waiting for servers, load with wrk, machine notes and number formatting.

The scripts are run as ``python benchmarks/NAME.py`` (the product's venv), so this module
is imported as ``benchlib`` from the script's own folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BENCH_VENV = ROOT / ".venv-bench"


class BenchError(RuntimeError):
    """A benchmark could not produce a trustworthy figure; the message says why."""


# --- finding the programs ------------------------------------------------------------------


def cityos_command(explicit: str = "") -> list[str]:
    """The ``cityos`` command of the product's venv (the one running this script if it has it)."""
    candidates = [
        Path(explicit) if explicit else None,
        Path(sys.executable).parent / "cityos",
        ROOT / ".venv" / "bin" / "cityos",
    ]
    for candidate in candidates:
        if candidate is not None and candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate)]
    found = shutil.which("cityos")
    if found:
        return [found]
    raise BenchError("cityos が見つかりません / cityos not found: run `make install` first")


def peer_tool(bench_venv: Path, name: str) -> str:
    """A peer's command from the separate benchmark venv (see scripts/bench.sh)."""
    path = bench_venv / "bin" / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BenchError(
            f"{path} がありません / {path} is missing: run scripts/bench.sh once, or "
            f"`python3 -m venv {bench_venv} && {bench_venv}/bin/pip install sqlite-utils "
            "datasette 'uvicorn[standard]'`"
        )
    return str(path)


def package_version(python: str, distribution: str) -> str:
    """The installed version of ``distribution`` in the venv of ``python``."""
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    result = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    return result.stdout.strip() or "?"


# --- the workspace -------------------------------------------------------------------------


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@dataclass
class Timed:
    """A finished child process: its exit code, wall time, CPU time and peak memory."""

    returncode: int
    wall_s: float
    cpu_s: float
    max_rss_mb: float
    stdout: str
    stderr: str


class Workspace:
    """A temporary folder and the child processes of one benchmark run.

    Leaving the ``with`` block — normally, on an error, on Ctrl-C or on SIGTERM/SIGHUP —
    stops every child that is still running (its whole process group), runs the registered
    clean-up steps and removes the folder (unless ``keep``).
    """

    def __init__(self, *, keep: bool = False, parent: str | None = None) -> None:
        self.keep = keep
        self.parent = parent
        self.path = Path()
        self._processes: list[subprocess.Popen[bytes]] = []
        self._cleanups: list[Callable[[], object]] = []
        self._old_handlers: dict[int, Any] = {}

    def __enter__(self) -> Workspace:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            self._old_handlers[signum] = signal.signal(signum, _raise_interrupt)
        self.path = Path(tempfile.mkdtemp(prefix="cityos-bench-", dir=self.parent))
        return self

    def __exit__(self, *_exc: object) -> None:
        # A second Ctrl-C while cleaning up must not leave servers behind.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for process in reversed(self._processes):
                self.stop(process)
            for cleanup in reversed(self._cleanups):
                try:
                    cleanup()
                except Exception as exc:  # clean-up goes on with the next step
                    print(f"  (clean-up step failed: {exc})", file=sys.stderr)
            if self.keep:
                print(f"  (kept / 残しました: {self.path})", file=sys.stderr)
            else:
                shutil.rmtree(self.path, ignore_errors=True)
        finally:
            signal.signal(signal.SIGINT, previous)
            for signum, handler in self._old_handlers.items():
                signal.signal(signum, handler)

    def defer(self, cleanup: Callable[[], object]) -> None:
        """Run ``cleanup`` when the workspace closes (last registered runs first)."""
        self._cleanups.append(cleanup)

    def spawn(
        self,
        command: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        stdout: IO[Any] | int | None = None,
        stderr: IO[Any] | int | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``command`` in its own process group, to be stopped when the workspace closes."""
        process = subprocess.Popen(
            list(command),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        self._processes.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left after ``grace_s``."""
        if process.returncode is None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        # Workers of a server may outlive their leader; the group keeps the leader's pid as
        # its id while any member lives, so this reaches only what this run started.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if process in self._processes:
            self._processes.remove(process)

    def run_timed(
        self, command: Sequence[str], *, env: dict[str, str] | None = None, name: str
    ) -> Timed:
        """Run ``command`` to its end; wall time includes start-up. Output goes to files."""
        out_path = self.path / f"{name}.stdout"
        err_path = self.path / f"{name}.stderr"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            started = time.perf_counter()
            process = self.spawn(command, env=env, stdout=out, stderr=err)
            try:
                _pid, status, usage = os.wait4(process.pid, 0)
            except BaseException:
                self.stop(process)
                raise
            wall = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            self.stop(process)  # anything the command left running in its group
        return Timed(
            returncode=process.returncode,
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            max_rss_mb=usage.ru_maxrss / 1024,
            stdout=out_path.read_text(errors="replace"),
            stderr=err_path.read_text(errors="replace"),
        )


# --- servers -------------------------------------------------------------------------------


def private_server(ws: Workspace, script: str, state_variable: str, url_variable: str) -> str:
    """Start a server of this run's own with ``scripts/<script> start`` (in a state folder of
    its own, so that a test run's server is never touched); it is stopped when ``ws`` closes.
    Answers the URL the script prints as ``export <url_variable>=...``."""
    state = Path(tempfile.gettempdir()) / f"cityos-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, **{state_variable: str(state)})
    path = str(ROOT / "scripts" / script)
    ws.defer(lambda: subprocess.run([path, "stop"], env=env, check=False))
    started = subprocess.run([path, "start"], env=env, capture_output=True, text=True, check=False)
    found = re.search(rf"{url_variable}=(\S+)", started.stdout)
    if started.returncode != 0 or not found:
        raise BenchError(f"scripts/{script} start failed:\n{started.stderr}")
    return found.group(1)


def postgres_database(ws: Workspace) -> str:
    """A fresh database for the run: on CITYOS_TEST_POSTGRES_URL's server if one is given,
    else on a private server from scripts/postgres.sh that is stopped afterwards."""
    import psycopg  # the product's dependency; this script runs in the product's venv

    server_url = os.environ.get("CITYOS_TEST_POSTGRES_URL", "")
    if not server_url:
        server_url = private_server(
            ws, "postgres.sh", "CITYOS_PG_STATE", "CITYOS_TEST_POSTGRES_URL"
        )
    name = f"cityos_bench_{uuid.uuid4().hex[:8]}"
    plain = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    ws.defer(drop)
    return server_url.rsplit("/", 1)[0] + "/" + name


def child_env(**extra: str) -> dict[str, str]:
    """The caller's environment without its CITYOS_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYOS_")}
    env.update(COLUMNS="250", NO_COLOR="1", TERM="dumb", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def add_staff_account(ws: Workspace, cityos: list[str], env: dict[str, str]) -> None:
    """What an installation does once, untimed: the staff account an ingest is recorded
    under, and the compiled address index (built at install or first run, ~15 s)."""
    for args, name in (
        (["user", "add", "bench", "--role", "admin", "--password", "bench-password-1"], "user-add"),
        (["address", "build"], "address-build"),
    ):
        done = ws.run_timed([*cityos, *args], env=env, name=f"cityos-{name}")
        if done.returncode != 0:
            raise BenchError(f"cityos {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class HttpAnswer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_get(url: str, timeout: float = 30.0) -> HttpAnswer:
    """GET ``url`` (loopback only); HTTP errors are answers, not exceptions."""
    if not url.startswith("http://127.0.0.1:"):
        raise BenchError(f"benchmarks talk to 127.0.0.1 only, not {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return HttpAnswer(response.status, response.read())
    except urllib.error.HTTPError as exc:
        return HttpAnswer(exc.code, exc.read())


def wait_for_http(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 120.0
) -> None:
    """Wait until ``url`` answers 200; fail early if the server process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"server exited with {process.returncode}:\n{tail(log)}")
        with contextlib.suppress(OSError):
            if http_get(url, timeout=5).status == 200:
                return
        time.sleep(0.2)
    raise BenchError(f"server did not answer {url} within {timeout_s:.0f} s:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- load with wrk -------------------------------------------------------------------------


@dataclass
class Server:
    """One URL of a running server under load (several may share a process)."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    description: str
    returns: str = ""
    body_bytes: int = 0


@dataclass
class WrkResult:
    requests_per_s: float
    p99_ms: float
    p50_ms: float
    requests: int
    non_2xx: int
    socket_errors: dict[str, int]
    server_cpu_s: float
    seconds: float
    raw: str = field(repr=False, default="")

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())


def group_processes(leader: int) -> Iterator[list[str]]:
    """The /proc/PID/stat fields (after the command name) of each live process of a group."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == leader:  # pgrp
            yield fields


def group_cpu_seconds(leader: int) -> float:
    """CPU time (user + system) used so far by the live processes of a process group."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = sum(int(f[11]) + int(f[12]) for f in group_processes(leader))  # utime, stime
    return total / ticks


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def latency_ms(text: str, percentile: str) -> float:
    """One line of wrk's "Latency Distribution" (50, 75, 90 or 99), in milliseconds."""
    found = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    if not found:
        raise BenchError(f"no {percentile}% latency in wrk's output:\n{text}")
    return float(found[1]) * _UNITS_MS[found[2]]


def parse_wrk(text: str) -> tuple[float, float, float, int, int, dict[str, int]]:
    """Requests/s, p99 ms, p50 ms, requests, non-2xx and socket errors from ``wrk --latency``."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    done = re.search(r"(\d+) requests in", text)
    if not rate or not done:
        raise BenchError(f"wrk's output has no Requests/sec:\n{text}")
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    socket_errors = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, socket.groups()), strict=True))
        if socket
        else {}
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return (
        float(rate[1]),
        latency_ms(text, "99"),
        latency_ms(text, "50"),
        int(done[1]),
        int(non_2xx[1]) if non_2xx else 0,
        socket_errors,
    )


def run_wrk(
    ws: Workspace,
    wrk: str,
    server: Server,
    seconds: int,
    label: str,
    *,
    threads: int,
    connections: int,
    timeout_s: int,
) -> WrkResult:
    """One bounded ``wrk --latency`` run against ``server.url``, with the server's CPU time."""
    command = [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s"]
    command += ["--latency", "--timeout", f"{timeout_s}s", server.url]
    with step(f"{label} {server.name}: wrk -t {threads} -c {connections} -d {seconds}s"):
        if server.process.poll() is not None:
            raise BenchError(f"{server.name} server has exited:\n{server.log.read_text()[-2000:]}")
        cpu_before = group_cpu_seconds(server.process.pid)
        started = time.perf_counter()
        timed = ws.run_timed(command, name=f"wrk-{server.name}-{label}")
        elapsed = time.perf_counter() - started
        cpu = group_cpu_seconds(server.process.pid) - cpu_before
    if timed.returncode != 0:
        raise BenchError(f"wrk failed (exit {timed.returncode}):\n{timed.stdout}{timed.stderr}")
    rate, p99, p50, requests, non_2xx, socket_errors = parse_wrk(timed.stdout)
    return WrkResult(rate, p99, p50, requests, non_2xx, socket_errors, cpu, elapsed, timed.stdout)


def run_load(
    ws: Workspace, args: argparse.Namespace, wrk: str, server: Server, seconds: int, label: str
) -> WrkResult:
    """:func:`run_wrk` with a script's ``--threads``, ``--connections`` and ``--wrk-timeout``."""
    return run_wrk(
        ws,
        wrk,
        server,
        seconds,
        label,
        threads=args.threads,
        connections=args.connections,
        timeout_s=args.wrk_timeout,
    )


def median_run(runs: list[WrkResult]) -> WrkResult:
    """The run with the median rate (the lower middle one of an even number)."""
    by_rate = sorted(runs, key=lambda r: r.requests_per_s)
    return by_rate[(len(by_rate) - 1) // 2]


def describe_errors(run: WrkResult) -> str:
    if not run.errors:
        return "errors 0"
    socket = ", ".join(f"{k} {v}" for k, v in run.socket_errors.items() if v)
    return f"errors {run.errors} (non-2xx {run.non_2xx}; socket: {socket or 0})"


def wrk_version(wrk: str) -> str:
    """``wrk debian/4.1.0-3+b2 [epoll]``: the first line of ``wrk --version``, less the notice."""
    done = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.split(" Copyright")[0].strip()


# --- machine notes and formatting ----------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def memory_gib() -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


def machine_line() -> str:
    return (
        f"machine: {os.cpu_count()} CPUs ({cpu_model()}), {memory_gib():.1f} GiB RAM, "
        f"Linux {platform.release()}, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


def load_average() -> str:
    """The 1- and 5-minute load averages, ``0.52/0.61``."""
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def count(value: float) -> str:
    """1,234,567 — thousands separated, no decimals."""
    return f"{value:,.0f}"


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def ratio(ours: float, peer: float) -> str:
    return f"{ours / peer:.2f}x" if peer > 0 else "n/a"


@contextlib.contextmanager
def step(title: str) -> Iterator[None]:
    """Print what is happening and how long it took (progress goes to stderr)."""
    print(f"... {title}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    yield
    print(f"    done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


def figure_lines(figures: Sequence[tuple[str, str, str, str]]) -> list[str]:
    """Aligned ``  name  (what)  figure  extra`` lines of a final block."""
    name_w = max(len(f[0]) for f in figures)
    what_w = max(len(f[1]) for f in figures)
    value_w = max(len(f[2]) for f in figures)
    extra_w = max(len(f[3]) for f in figures)
    return [
        f"  {name:<{name_w}}  {what:<{what_w}}  {value:>{value_w}}  {extra:>{extra_w}}"
        for name, what, value, extra in figures
    ]
