"""A black-box harness for `marsrelay serve`: the documented CLI in a subprocess, HTTP through
httpx, nothing imported from `marsrelay.service`.

Used by ``tests/test_service_contract.py``, which plays the independent client that the service
contract (docs: the service's contract text) is checked against: every helper here only does
what such a client could do (run the CLI, read its stdout, talk HTTP, read the files it names).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

#: Outputs: UTC ISO 8601 with ``Z`` and milliseconds (contract: "times UTC ISO 8601 with Z").
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(text: str) -> int:
    """Milliseconds since 1970 of an output time (asserts its format)."""
    assert isinstance(text, str) and ISO_MS.match(text), f"not UTC ISO 8601 with Z and ms: {text!r}"
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def iso(ms: int) -> str:
    """The UTC ISO 8601 text (``Z``, milliseconds) of ``ms`` milliseconds since 1970."""
    return (_EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def marsrelay_command() -> list[str]:
    """The installed `marsrelay` console script next to this interpreter."""
    script = Path(sys.executable).with_name("marsrelay")
    assert script.exists(), f"no marsrelay console script at {script}"
    return [str(script)]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without MARSRELAY_DB (so `--db` and its default are what is tested)."""
    env = {k: v for k, v in os.environ.items() if k != "MARSRELAY_DB"}
    env.update(extra)
    return env


def run_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``marsrelay ARGS`` and return the finished process (text stdout/stderr)."""
    return subprocess.run(marsrelay_command() + args, cwd=cwd, env=env or clean_env(),
                          input=stdin, capture_output=True, text=True, timeout=300, check=False)


def start_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None,
              stdin: str | None = None) -> subprocess.Popen[str]:
    """Start ``marsrelay ARGS`` without waiting (several add-user calls run side by side)."""
    proc = subprocess.Popen(marsrelay_command() + args, cwd=cwd, env=env or clean_env(),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin)
    assert proc.stdin is not None
    proc.stdin.close()
    return proc


def token_of(proc: subprocess.Popen[str]) -> str:
    """Wait for an add-user process and return the token: the LAST line of its stdout."""
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()
    assert proc.wait(timeout=300) == 0, f"add-user failed: {out}\n{err}"
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines, "add-user printed nothing"
    return lines[-1].strip()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One `marsrelay serve` subprocess and an HTTP client for it."""

    proc: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    client: httpx.Client = field(init=False)
    seen_5xx: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base_url, timeout=60.0)

    def stop(self, sig: int) -> int:
        """Send ``sig`` and return the exit status (waits at most 60 s)."""
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            raise

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")


def start_server(db_url: str | None, cwd: Path, env: dict[str, str] | None = None,
                 timeout_s: float = 120.0) -> Server:
    """Start ``marsrelay serve`` on a free port of 127.0.0.1 and poll `/api/v1/health` until
    it answers (no sleeps beyond the polling interval)."""
    port = free_port()
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    if db_url is not None:
        args += ["--db", db_url]
    log_path = cwd / f"serve-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(marsrelay_command() + args, cwd=cwd, env=env or clean_env(),
                                stdout=log, stderr=subprocess.STDOUT)
    server = Server(proc, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}:\n{server.log()}")
        try:
            if server.client.get("/api/v1/health").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.stop(signal.SIGKILL)
            raise AssertionError(f"serve did not answer within {timeout_s} s:\n{server.log()}")
        time.sleep(0.05)


class Api:
    """Calls on one server as one user (or none); every answer is checked to be no 5xx."""

    def __init__(self, server: Server, token: str | None) -> None:
        self.server = server
        self.headers = {} if token is None else {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = self.server.client.request(method, "/api/v1" + path, headers=headers, **kwargs)
        if response.status_code >= 500:
            self.server.seen_5xx.append(f"{method} {path} -> {response.status_code}")
        assert response.status_code < 500, (
            f"{method} {path} -> {response.status_code} (a 500 is a bug): {response.text[:500]}")
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        """The JSON of a call that must answer ``status``."""
        response = self.call(method, path, **kwargs)
        assert response.status_code == status, (
            f"{method} {path} -> {response.status_code}, expected {status}: {response.text[:800]}")
        return response.json()


class Slots:
    """Hands out request windows on an orbiter that no other test uses, so that tests sharing
    one server never conflict by accident. Times in integer milliseconds since 1970."""

    def __init__(self, overflights: list[dict[str, Any]]) -> None:
        self.overflights = overflights
        self.taken: dict[str, list[tuple[int, int]]] = {}

    def reserve(self, orbiter: str, start: int, end: int) -> None:
        self.taken.setdefault(orbiter, []).append((start, end))

    def _free(self, orbiters: tuple[str, ...], start: int, end: int) -> bool:
        return all(end <= s or start >= e
                   for orbiter in orbiters for s, e in self.taken.get(orbiter, []))

    def _take(self, orbiters: tuple[str, ...], start: int, end: int) -> None:
        for orbiter in orbiters:
            self.reserve(orbiter, start, end)

    def whole(self, orbiter: str, lander: str, also: tuple[str, ...] = (),
              guard_ms: int = 0) -> dict[str, Any]:
        """An overflight of ``orbiter`` over ``lander`` no other test has touched (nor its
        time on the orbiters ``also``, nor ``guard_ms`` either side)."""
        for ov in self.overflights:
            s, e = to_ms(ov["start_utc"]) - guard_ms, to_ms(ov["end_utc"]) + guard_ms
            if (ov["orbiter"] == orbiter and ov["lander"] == lander
                    and self._free((orbiter, *also), s, e)):
                self._take((orbiter, *also), s, e)
                return ov
        raise AssertionError(f"no free whole overflight {orbiter} over {lander} left")

    def part(self, orbiter: str, lander: str, length_ms: int, margin_ms: int = 5_000,
             also: tuple[str, ...] = (), guard_ms: int = 0) -> tuple[dict[str, Any], int, int]:
        """A free window of ``length_ms`` strictly inside an overflight (``margin_ms`` in),
        free on the orbiters ``also`` too, and ``guard_ms`` either side of it."""
        orbiters = (orbiter, *also)
        for ov in self.overflights:
            if ov["orbiter"] != orbiter or ov["lander"] != lander:
                continue
            s, e = to_ms(ov["start_utc"]) + margin_ms, to_ms(ov["end_utc"]) - margin_ms
            start = s
            while start + length_ms <= e:
                if self._free(orbiters, start - guard_ms, start + length_ms + guard_ms):
                    self._take(orbiters, start - guard_ms, start + length_ms + guard_ms)
                    return ov, start, start + length_ms
                start += 1_000
        raise AssertionError(f"no free {length_ms} ms in {orbiter} over {lander} left")

    def together(self, first: tuple[str, str], second: tuple[str, str],
                 length_ms: int) -> tuple[dict[str, Any], dict[str, Any], int, int]:
        """A free window of ``length_ms`` inside an overflight of ``first`` (orbiter, lander)
        and one of ``second`` at the same time: a split pass when the orbiters are the same,
        simultaneous passes of two orbiters otherwise."""
        orbiters = tuple({first[0], second[0]})
        for ova in self.overflights:
            if (ova["orbiter"], ova["lander"]) != first:
                continue
            for ovb in self.overflights:
                if (ovb["orbiter"], ovb["lander"]) != second:
                    continue
                s = max(to_ms(ova["start_utc"]), to_ms(ovb["start_utc"])) + 1_000
                e = min(to_ms(ova["end_utc"]), to_ms(ovb["end_utc"])) - 1_000
                start = s
                while start + length_ms <= e:
                    if self._free(orbiters, start, start + length_ms):
                        self._take(orbiters, start, start + length_ms)
                        return ova, ovb, start, start + length_ms
                    start += 1_000
        raise AssertionError(f"no free window of {first} together with {second}")
