"""A run or report killed mid-way leaves nothing that a later collect, resume or reader takes as complete.

Each test starts the real command in its own process group (as a terminal or a scheduler does),
waits for a chosen moment (the model running, or the hidden folder being filled), freezes the
group (SIGSTOP) and checks that it is caught at that moment, not after it finished, then sends
Ctrl-C (SIGINT) or SIGKILL and lets it go on (SIGCONT). So every test interrupts for real. Afterwards the result folder is absent or complete;
after Ctrl-C no hidden temporary is left; after SIGKILL a hidden `.<name>.*` temporary may
remain, and neither sim.collect nor a resumed sweep reads it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim.analysis.results
from sim.analysis.results import atomic_directory, write_csv
from sim.collect import find_runs, load_sweep
from sim.inputs.errors import InputError
from sim.inputs.yamlio import read_yaml
from sim.run import finished

RUN_FILES = ("indicators.csv", "indicators_by_year.csv", "costs.csv", "school_entry.parquet", "monthly.csv",
             "indicators.parquet", "costs.parquet", "config.yaml", "provenance.yaml")
REPORT_FILES = ("bericht.html", "comparison.csv", "costs.csv", "cost_effectiveness.csv", "runs.parquet",
                "provenance.yaml")


def start(module: str, *args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=cwd, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def start_run(tmp: Path) -> tuple[subprocess.Popen, Path]:
    """A single run writing where a sweep's run would (<sweep>/<job>/result), Hydra's own files aside."""
    out = tmp / "sweep" / "baseline_seed0" / "result"
    proc = start("sim.run", "--scale", "0.02", "--years", "18", "--burn-in", "0", "--out", str(out),
                 f"hydra.run.dir={tmp / 'hydra'}", cwd=tmp)
    return proc, out


def start_report(tmp: Path) -> tuple[subprocess.Popen, Path]:
    out = tmp / "report"
    proc = start("sim.report", "--scenarios", "baseline,lotsen", "--seeds", "1", "--scale", "0.02", "--years", "2",
                 "--burn-in", "0", "--out", str(out), cwd=tmp)
    return proc, out


def hidden(folder: Path, name: str) -> list[Path]:
    return sorted(folder.glob(f".{name}.*")) if folder.exists() else []


def wait_until(condition, proc: subprocess.Popen, timeout: float = 120.0, poll: float = 0.002) -> bool:
    """True once condition() holds; False if the process ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return condition()
        time.sleep(poll)
    raise AssertionError("the moment to interrupt never came")


def freeze_at(proc: subprocess.Popen, still_there) -> None:
    """Stop the process group and check that it is caught mid-way: still running, with the
    moment's condition (`still_there`) still true. Fails if it had finished first."""
    os.killpg(proc.pid, signal.SIGSTOP)
    time.sleep(0.05)  # every process of the group has stopped
    assert proc.poll() is None, "the process had finished before the signal: nothing was interrupted"
    assert still_there(), "the moment to interrupt had passed before the signal came"


def interrupt(proc: subprocess.Popen, sig: signal.Signals) -> int:
    """Send sig to the frozen group, then let it go on so that it can handle the signal."""
    os.killpg(proc.pid, sig)
    os.killpg(proc.pid, signal.SIGCONT)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError("the process did not stop after the signal")
    return proc.returncode


def assert_complete_or_absent(out: Path, files: tuple[str, ...]) -> bool:
    """The folder is absent, or every file is there and reads as its kind. True when complete."""
    if not out.exists():
        return False
    for name in files:
        path = out / name
        assert path.is_file() and path.stat().st_size > 0, f"{out} exists but {name} is missing or empty"
        if name.endswith(".parquet"):
            pd.read_parquet(path)
        elif name.endswith(".yaml"):
            assert isinstance(read_yaml(path), dict)
        elif name.endswith(".csv"):
            pd.read_csv(path, nrows=5)
    return True


# ---- python -m sim.run ---------------------------------------------------------------------------
def test_a_run_killed_while_writing_leaves_nothing_that_collect_or_resume_reads(tmp_path):
    proc, out = start_run(tmp_path)
    writing = lambda: bool(hidden(out.parent, out.name))  # noqa: E731
    assert wait_until(writing, proc), proc.stderr.read()[-3000:]
    freeze_at(proc, writing)
    assert interrupt(proc, signal.SIGKILL) == -signal.SIGKILL, "the run was not killed"

    complete = assert_complete_or_absent(out, RUN_FILES)
    if not complete:
        assert hidden(out.parent, out.name), "the hidden temporary should be what SIGKILL left"
    if not complete:
        assert find_runs(tmp_path / "sweep") == [], "collect took a killed run's temporary for a result"
        with pytest.raises(InputError, match="no finished run"):
            load_sweep(tmp_path / "sweep")
        assert not finished(out, {"scenario": "baseline", "seed": 0})


@pytest.mark.parametrize("moment", ["running", "writing"])
def test_ctrl_c_stops_a_run_without_leaving_a_part_or_a_temporary(tmp_path, moment):
    proc, out = start_run(tmp_path)
    writing = lambda: bool(hidden(out.parent, out.name))  # noqa: E731
    if moment == "running":
        # Hydra has composed the configuration and the model has started once Hydra's folder exists;
        # the model is still running while nothing is being written yet.
        reached = wait_until(lambda: (tmp_path / "hydra" / ".hydra" / "config.yaml").exists(), proc)
        at_moment = lambda: not writing() and not out.exists()  # noqa: E731
    else:
        reached = wait_until(writing, proc)
        at_moment = writing
    assert reached, proc.stderr.read()[-3000:]
    freeze_at(proc, at_moment)
    code = interrupt(proc, signal.SIGINT)

    complete = assert_complete_or_absent(out, RUN_FILES)
    assert code != 0, "an interrupted run must not report success"
    if moment == "running":
        assert not complete, "a run stopped while computing wrote a result"
    assert hidden(out.parent, out.name) == [], "Ctrl-C left a hidden temporary behind"
    if complete:
        assert read_yaml(out / "provenance.yaml")["seeds"] == [0]


def test_a_finished_run_carries_its_provenance(tmp_path):
    proc, out = start_run(tmp_path)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert assert_complete_or_absent(out, RUN_FILES)
    prov = read_yaml(out / "provenance.yaml")
    assert {"created", "git_revision", "packages", "seeds", "config", "inputs"} <= set(prov)
    assert prov["seeds"] == [0] and prov["config"]["seed"] == 0
    assert prov["config"]["params"]["takeup"]["elasticity"], "the resolved parameters belong to the config"
    assert prov["config"]["levers"]["lotse_fte"] == 2.0, "the resolved levers belong to the config"
    assert prov["packages"]["mesa"].startswith("3.")
    assert len(prov["git_revision"]) >= 40 or prov["git_revision"] == "unknown"
    assert all(len(f["sha256"]) == 64 for f in prov["inputs"].values())
    assert hidden(out.parent, out.name) == []


# ---- python -m sim.report ------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl_c", "sigkill"])
def test_a_report_interrupted_while_writing_is_absent_or_complete(tmp_path, sig):
    proc, out = start_report(tmp_path)
    writing = lambda: bool(hidden(tmp_path, out.name))  # noqa: E731
    assert wait_until(writing, proc, timeout=240), proc.stderr.read()[-3000:]
    time.sleep(0.2)  # inside the writing of tables and charts
    freeze_at(proc, writing)
    code = interrupt(proc, sig)

    complete = assert_complete_or_absent(out, REPORT_FILES)
    assert code != 0, "an interrupted report must not report success"
    assert not complete, "a report stopped while writing left a complete folder (was it done already?)"
    if sig == signal.SIGINT:
        assert hidden(tmp_path, out.name) == [], "Ctrl-C left a hidden temporary behind"
    if complete:
        prov = read_yaml(out / "provenance.yaml")
        assert prov["seeds"] == [0] and "params" in prov["config"]


# ---- the writing helpers themselves --------------------------------------------------------------
def test_a_folder_replaced_by_a_new_result_is_never_half_old_half_new(tmp_path):
    out = tmp_path / "result"
    with atomic_directory(out) as tmp:
        write_csv(pd.DataFrame({"a": [1]}), tmp / "old.csv")
    with pytest.raises(KeyboardInterrupt):
        with atomic_directory(out) as tmp:
            write_csv(pd.DataFrame({"a": [2]}), tmp / "new.csv")
            raise KeyboardInterrupt
    assert sorted(p.name for p in out.iterdir()) == ["old.csv"], "an interrupted replacement touched the old result"
    with atomic_directory(out) as tmp:
        write_csv(pd.DataFrame({"a": [2]}), tmp / "new.csv")
    assert sorted(p.name for p in out.iterdir()) == ["new.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["result"], "a temporary or the old folder was left behind"
    assert oct(out.stat().st_mode & 0o077) != "0o0", "a result folder must not be private to its writer"


def test_a_file_write_that_fails_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "costs.csv"
    write_csv(pd.DataFrame({"cost_eur": [1.0]}), path)

    def exploding(table, target, **kwargs):
        Path(target).write_text("cost_eur\n1", encoding="utf-8")  # half a table, then the process dies
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.analysis.results.pa_csv, "write_csv", exploding)
    with pytest.raises(KeyboardInterrupt):
        write_csv(pd.DataFrame({"cost_eur": [2.0]}), path)
    assert pd.read_csv(path)["cost_eur"].tolist() == [1.0]
    assert [p.name for p in tmp_path.iterdir()] == ["costs.csv"]


SWALLOWED_CTRL_C = """
import signal, sys
from pathlib import Path
import pandas as pd
from sim.analysis.results import atomic_directory, catch_interrupts, write_csv
if sys.argv[2] == "caught":
    catch_interrupts()
with atomic_directory(Path(sys.argv[1])) as tmp:
    write_csv(pd.DataFrame({"a": [1]}), tmp / "first.csv")
    try:  # what C code that clears errors does to a KeyboardInterrupt raised in its callback
        signal.raise_signal(signal.SIGINT)
    except KeyboardInterrupt:
        pass
    write_csv(pd.DataFrame({"a": [2]}), tmp / "second.csv")
"""


@pytest.mark.parametrize("handler", ["caught", "python_default"])
def test_a_ctrl_c_that_a_library_swallows_still_stops_the_result(tmp_path, handler):
    out = tmp_path / "result"
    proc = subprocess.run([sys.executable, "-c", SWALLOWED_CTRL_C, str(out), handler], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[1])
    if handler == "caught":  # as `python -m sim.run` and the other commands install it
        assert proc.returncode != 0, "a swallowed Ctrl-C let the command report success"
        assert not out.exists(), "a swallowed Ctrl-C let the result be renamed into place"
        assert "KeyboardInterrupt" in proc.stderr
        assert list(tmp_path.iterdir()) == [], "the temporary was left behind"
    else:  # the negative control: with Python's own handler the swallowed Ctrl-C is lost
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert sorted(p.name for p in out.iterdir()) == ["first.csv", "second.csv"]
