"""Run folders as transactions: a run killed (SIGKILL), interrupted (SIGINT) or terminated
(SIGTERM) mid-way into a folder holding an earlier run leaves that run whole; two runs started
into one folder at once leave one whole run, never a mix; readers refuse incomplete folders.

The runs are real ``marsrelay run`` processes; "mid-way" is when the run's temporary sibling
folder exists (polled with a timeout, no sleeps)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import BASE_TOML
from marsrelay.cli.main import app
from marsrelay.errors import RunFolderError
from marsrelay.rundir.folder import RunFolderWriter, check_run_folder

pytestmark = pytest.mark.slow

#: Two days in November 2030 (no solar conjunction), two orbiters, one lander, one station.
TOML = BASE_TOML.replace("2030-06-01T00:00:00Z", "2030-11-01T00:00:00Z").replace(
    "2030-06-02T00:00:00Z", "2030-11-03T00:00:00Z")
TIMEOUT_S = 120.0


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the SHA-256 of its content."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _cmd(scenario: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", "from marsrelay.cli.main import app; app()", "run",
            str(scenario), "--out", str(out), "--no-compare"]


def _wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)  # polling interval of a bounded wait, not a fixed delay


def _staging(out: Path) -> list[Path]:
    return list(out.parent.glob(f".{out.name}.tmp-*"))


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """A scenario file and a folder holding a complete earlier run of it."""
    base = tmp_path_factory.mktemp("runs")
    scenario = base / "two-days.toml"
    scenario.write_text(TOML)
    out = base / "out"
    done = subprocess.run(_cmd(scenario, out), capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    record = check_run_folder(out)
    assert record["status"] == "complete" and "report.html" in record["files"]
    return scenario, out, _tree(out)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGKILL, -9), (signal.SIGINT, 130),
                                           (signal.SIGTERM, 143)])
def test_a_run_stopped_mid_way_leaves_the_earlier_run_whole(earlier, sig, code):
    scenario, out, before = earlier
    proc = subprocess.Popen(_cmd(scenario, out), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: _staging(out) or proc.poll() is not None, "the run to start writing")
        assert proc.poll() is None, "the run finished before it could be stopped"
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, stderr
    assert _tree(out) == before  # the earlier run, byte for byte
    if sig != signal.SIGKILL:
        assert "interrupted" in stderr and "keeps what it held before" in stderr
        assert "Traceback" not in stderr
        assert not _staging(out)  # cleaned up on the way out
    else:
        # a killed run cannot clean up: the next writer removes what it left (this one then
        # gives up, so the earlier run stays)
        assert _staging(out)
        with pytest.raises(KeyboardInterrupt), RunFolderWriter(out) as writer:
            assert _staging(out) == [writer.path]
            raise KeyboardInterrupt
        assert not _staging(out) and _tree(out) == before


def test_two_runs_into_one_folder_leave_one_whole_run(earlier, tmp_path):
    scenario, _, _ = earlier
    out = tmp_path / "shared"
    procs = [subprocess.Popen(_cmd(scenario, out), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=TIMEOUT_S) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes in ([0, 0], [0, 2]), [r[1] for r in results]
    if codes == [0, 2]:
        loser = next(r[1] for p, r in zip(procs, results, strict=True) if p.returncode == 2)
        assert "another marsrelay run is writing into this folder" in " ".join(loser.split())
    record = check_run_folder(out)
    assert sorted(_tree(out)) == sorted([*record["files"], "run.json"])
    assert not _staging(out)


def test_readers_refuse_an_incomplete_folder(earlier, tmp_path):
    _, out, _ = earlier
    runner = CliRunner()
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in out.iterdir():
        if f.is_file() and f.name != "delivery.csv":
            (broken / f.name).write_bytes(f.read_bytes())
    res = runner.invoke(app, ["report", str(broken), "--out", str(tmp_path / "r.html")])
    assert res.exit_code == 2
    assert "files of the run are missing: delivery.csv" in " ".join(res.stderr.split())
    assert not (tmp_path / "r.html").exists()
    record = json.loads((broken / "run.json").read_text())
    record["status"] = "running"
    (broken / "run.json").write_text(json.dumps(record))
    (broken / "delivery.csv").write_bytes((out / "delivery.csv").read_bytes())
    res = runner.invoke(app, ["compare", str(out), str(broken)])
    assert res.exit_code == 2 and "not complete" in res.stderr
    (broken / "run.json").unlink()
    res = runner.invoke(app, ["czml", str(broken), "--out", str(tmp_path / "x.czml")])
    assert res.exit_code == 2 and "no run.json" in res.stderr


def test_a_folder_that_is_not_a_run_is_never_replaced(tmp_path):
    mine = tmp_path / "my-notes"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    with pytest.raises(RunFolderError, match="not a marsrelay run"):
        RunFolderWriter(mine)
    res = CliRunner().invoke(app, ["contacts", "exomars-2030", "--out", str(mine)])
    assert res.exit_code == 2 and "will not replace" in " ".join(res.stderr.split())
    assert (mine / "thesis.txt").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-notes"]


def test_the_lock_file_is_released_when_a_writer_dies(tmp_path):
    out = tmp_path / "locked"
    code = ("import os, sys\nfrom marsrelay.rundir.folder import RunFolderWriter\n"
            f"w = RunFolderWriter({str(out)!r}).__enter__()\nprint('held', flush=True)\n"
            "sys.stdin.read()\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunFolderError, match="another marsrelay run"), RunFolderWriter(out):
            pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=TIMEOUT_S)
    finally:
        if holder.poll() is None:
            holder.kill()
    with RunFolderWriter(out) as writer:  # the dead writer's lock is gone with it
        (writer.path / "scenario.json").write_text("{}")
    assert check_run_folder(out)["status"] == "complete"
    assert not _staging(out)
