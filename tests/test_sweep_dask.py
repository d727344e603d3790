"""Sweeps on Dask (LocalCluster on loopback, worker processes): equal to a serial run, and
resumable after a killed worker, a failing case, a killed client and Ctrl-C.

Every interruption is synchronised on the file system (poll for partition files with a short
interval and a bounded timeout), never on a sleep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest

from helpers.sweep_cases import fail_one, kill_worker_once, prox_case
from marsrelay.sweep import load_sweep, run_sweep
from marsrelay.sweep.run import local_cluster

TESTS = Path(__file__).parent
POLL_S = 0.02
TIMEOUT_S = 60.0

BASE = """\
[scenario]
name = "sweep-dask-test"
start = "2030-11-01T00:00:00Z"
end = "2030-11-02T00:00:00Z"

[[orbiter]]
name = "TGO"
[orbiter.elements]
a_km = 3796.19
e = 0.0
i_deg = 74.0

[[orbiter]]
name = "MRO"
[orbiter.elements]
a_km = 3683.69
e = 0.008823
i_deg = 92.6
raan_deg = 320.5

[[lander]]
name = "Rosalind Franklin"
lat_deg = 18.275
lon_east_deg = 335.368
"""

SWEEP = """\
[sweep]
base = "base.toml"
figures = ["passes_per_sol", "contact_min_per_sol", "max_gap_h"]
case = "helpers.sweep_cases:prox_case"

[[axis]]
path = "lander[0].lat_deg"
start = -60.0
stop = 60.0
num = {n_lat}

[[axis]]
path = 'orbiter["TGO"].elements.raan_deg'
values = [0.0, 120.0]

[[axis]]
path = "span_days"
values = [{span}]
"""


def write(folder: Path, n_lat: int = 3, span: float = 1.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.toml").write_text(BASE, encoding="utf-8")
    path = folder / "sweep.toml"
    path.write_text(SWEEP.format(n_lat=n_lat, span=span), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each, on loopback."""
    c = local_cluster(2, host="127.0.0.1")
    yield c
    c.close()


def results(out: Path):
    return pq.read_table(out / "results.parquet")


def serial_reference(sweep_file: Path, tmp: Path):
    out = tmp / "serial"
    outcome = run_sweep(load_sweep(sweep_file), out, workers=0, case_function=prox_case)
    assert outcome.n_failed == 0
    return results(out)


def wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(POLL_S)


def parts(out: Path) -> dict[str, tuple[int, int]]:
    """Partition files -> (inode, mtime_ns)."""
    folder = out / "results"
    if not folder.is_dir():
        return {}
    out_ = {}
    for p in folder.glob("part-*.parquet"):
        with pytest.MonkeyPatch.context():
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
        out_[p.name] = (st.st_ino, st.st_mtime_ns)
    return out_


def test_cluster_run_equals_serial_run_case_by_case(cluster, tmp_path):
    sweep_file = write(tmp_path)
    sweep = load_sweep(sweep_file)
    out = tmp_path / "dask"
    outcome = run_sweep(sweep, out, scheduler=cluster.scheduler_address, allow_code=True)
    assert (outcome.n_cases, outcome.n_computed, outcome.n_failed, outcome.workers) == (6, 6, 0, 2)
    got = results(out)
    want = serial_reference(sweep_file, tmp_path)
    assert got.equals(want)
    assert got["case_id"].to_pylist() == [c.case_id for c in sweep.cases]


def test_a_killed_worker_is_replaced_and_its_case_rerun(cluster, tmp_path):
    sweep_file = write(tmp_path)
    sweep = load_sweep(sweep_file)
    marker = tmp_path / "killed"
    fn = partial(kill_worker_once, marker=str(marker), index=3)
    outcome = run_sweep(sweep, tmp_path / "dask", scheduler=cluster.scheduler_address,
                        case_function=fn)
    assert marker.exists()  # a worker process did die in the middle of the sweep
    assert (outcome.n_computed, outcome.n_failed) == (6, 0)
    assert results(tmp_path / "dask").equals(serial_reference(sweep_file, tmp_path))
    # the nanny restarts the worker: the cluster has two workers again
    wait_for(lambda: len(cluster.scheduler_info["workers"]) == 2, "the worker to restart")


def test_a_failing_case_is_retried_then_reported(cluster, tmp_path):
    sweep = load_sweep(write(tmp_path))
    attempts = tmp_path / "attempts"
    fn = partial(fail_one, index=1, attempts_dir=str(attempts))
    out = tmp_path / "dask"
    outcome = run_sweep(sweep, out, scheduler=cluster.scheduler_address, case_function=fn,
                        retries=2)
    assert len(list(attempts.iterdir())) == 3  # the first try and two retries
    assert (outcome.n_computed, outcome.n_failed) == (5, 1)
    err = pq.read_table(out / "errors.parquet").to_pylist()
    assert [e["case_id"] for e in err] == [sweep.cases[1].case_id]
    assert err[0]["error_type"] == "DeliberateError"
    assert "fails on purpose" in err[0]["traceback"]
    assert results(out).num_rows == 5


def test_a_failing_case_in_a_chunk_is_isolated(cluster, tmp_path):
    """Three cases per task: the chunk holding the failing case fails after its retries, then
    its cases run alone, so only the failing case is reported."""
    sweep_file = write(tmp_path)
    sweep = load_sweep(sweep_file)
    attempts = tmp_path / "attempts"
    fn = partial(fail_one, index=4, attempts_dir=str(attempts))
    out = tmp_path / "dask"
    outcome = run_sweep(sweep, out, scheduler=cluster.scheduler_address, case_function=fn,
                        retries=1, chunk_size=3)
    assert len(list(attempts.iterdir())) == 4  # chunk: 1 + 1 retry; alone: 1 + 1 retry
    assert (outcome.n_computed, outcome.n_failed) == (5, 1)
    assert outcome.errors[0].case_id == sweep.cases[4].case_id
    want = serial_reference(sweep_file, tmp_path)
    keep = [i for i, cid in enumerate(want["case_id"].to_pylist())
            if cid != sweep.cases[4].case_id]
    assert results(out).equals(want.take(keep))


def _cli(sweep_file: Path, out: Path, workers: int, **kw) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-c", "from marsrelay.cli.main import app; app()", "sweep",
           str(sweep_file), "--out", str(out), "--workers", str(workers), "--allow-code"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
    return proc.returncode, stdout + stderr


def _check_resumed(sweep_file: Path, out: Path, before: dict, tmp_path: Path) -> None:
    sweep = load_sweep(sweep_file)
    after = parts(out)
    # nothing missing, nothing twice, and the partitions finished before the interruption
    # were not written again
    assert sorted(after) == sorted(f"part-{c.case_id}.parquet" for c in sweep.cases)
    assert all(after[name] == stamp for name, stamp in before.items())
    got = results(out)
    assert got["case_id"].to_pylist() == [c.case_id for c in sweep.cases]
    assert got.equals(serial_reference(sweep_file, tmp_path))


def test_a_killed_client_resumes_with_the_same_command(tmp_path):
    sweep_file = write(tmp_path, n_lat=10, span=3.0)  # 20 cases of ~0.1 s
    out = tmp_path / "out"
    proc = _cli(sweep_file, out, workers=2)
    try:
        wait_for(lambda: len(parts(out)) >= 3 or proc.poll() is not None, "3 partitions")
        family = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # the client's local workers die with their scheduler; make sure, by pid
    for child in family:
        if child.is_running():
            child.kill()
    psutil.wait_procs(family, timeout=TIMEOUT_S)
    assert proc.returncode == -signal.SIGKILL
    before = parts(out)
    assert 3 <= len(before) < 20, "the client was not killed part way"
    assert not (out / "results.parquet").exists()
    code, text = _finish(_cli(sweep_file, out, workers=2))
    assert code == 0, text
    assert f"{len(before)} already done" in " ".join(text.split())
    _check_resumed(sweep_file, out, before, tmp_path)


def test_ctrl_c_keeps_finished_cases_and_resumes(tmp_path):
    sweep_file = write(tmp_path, n_lat=10, span=3.0)
    out = tmp_path / "out"
    proc = _cli(sweep_file, out, workers=0)
    try:
        wait_for(lambda: len(parts(out)) >= 2 or proc.poll() is not None, "2 partitions")
        proc.send_signal(signal.SIGINT)
        code, text = _finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 130, text
    assert "interrupted" in text and "resume" in text
    before = parts(out)
    assert 2 <= len(before) < 20
    code, text = _finish(_cli(sweep_file, out, workers=0))
    assert code == 0, text
    _check_resumed(sweep_file, out, before, tmp_path)
