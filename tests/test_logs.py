"""The scripts' logs: a failing script leaves the reason in its log file; progress of long
loops is a tqdm bar only on a terminal and whole log lines elsewhere."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tqdm.auto import tqdm

import bridge.logs
from bridge.logs import LoggedProgress, ProgressLog, progress, setup_logging


def test_uncaught_exception_reaches_the_log(repo_root: Path, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "rule.log"
    script = (
        "from bridge.logs import setup_logging\n"
        f"setup_logging({str(log)!r})\n"
        "raise ValueError('results/x.json: key beta missing')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=repo_root, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "key beta missing" in result.stderr  # still on stderr for Snakemake's own output
    text = log.read_text()
    assert "CRITICAL uncaught: stopped by" in text
    assert "ValueError: results/x.json: key beta missing" in text


@pytest.fixture(autouse=True)
def _restore_logging():
    """setup_logging replaces the root handlers and the excepthook: give them back."""
    root = logging.getLogger()
    handlers, level, hook = list(root.handlers), root.level, sys.excepthook
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    sys.excepthook = hook
    logging.captureWarnings(False)


class _Clock:
    """A settable monotonic clock, seconds."""

    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def _lines(path: Path) -> list[str]:
    text = path.read_text()
    assert "\r" not in text and (not text or text.endswith("\n"))
    return text.splitlines()


def test_progress_log_writes_at_most_one_line_per_interval(tmp_path: Path) -> None:
    log_path = tmp_path / "job.log"
    setup_logging(log_path)
    clock = _Clock()
    progress = ProgressLog(logging.getLogger("job"), "fit of control", 60.0, clock)
    written = []
    for step_s in (10.0, 49.0, 1.0, 30.0, 30.0):  # at 10, 59, 60, 90 and 120 s
        clock.now_s += step_s
        written.append(progress.tick("%d calls", len(written) + 1))
    assert written == [False, False, True, False, True]
    lines = _lines(log_path)
    assert [line.split(" job: ")[1] for line in lines] == [
        "fit of control: 3 calls (60 s)",
        "fit of control: 5 calls (120 s)",
    ]


def test_training_off_a_terminal_logs_whole_lines_and_no_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A real (tiny) autoencoder run with the bar on, stderr a pipe as in a Snakemake or SLURM
    job: no carriage return anywhere, a progress line per iteration at interval 0."""
    from bridge.autoencoder.model import NeuronParams
    from bridge.autoencoder.train import train_run
    from tests.test_autoencoder_train import ITERATIONS_PER_EPOCH, tiny_run

    monkeypatch.setattr(bridge.logs, "PROGRESS_INTERVAL_S", 0.0)
    log_path = tmp_path / "seed5.log"
    setup_logging(log_path)
    run = dataclasses.replace(tiny_run(epochs=1), progress_bar=True)
    train_run(run, NeuronParams(), tmp_path / "run")
    captured = capfd.readouterr()
    assert "\r" not in captured.err + captured.out
    lines = [line for line in _lines(log_path) if "epoch 1/1: " in line]
    n = ITERATIONS_PER_EPOCH
    assert [re.search(r"epoch 1/1: (\d+/\d+) \(", line).group(1) for line in lines] == [
        f"{i}/{n}" for i in range(1, n + 1)
    ]
    assert all(re.search(r", loss=\d\.\d{4}, rate=\d\.\d{3} \(\d+ s\)$", line) for line in lines)


def test_a_terminal_gets_a_tqdm_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    logger = logging.getLogger("job")
    bar = progress(range(3), "x", logger)
    assert isinstance(bar, tqdm)
    bar.close()
    assert isinstance(progress(range(3), "x", logger, bar=False), LoggedProgress)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert isinstance(progress(range(3), "x", logger), LoggedProgress)


def test_regressor_training_logs_every_epoch_when_slow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the interval every epoch gets its line (interval 0 here), not one in 20."""
    import torch

    from bridge.config.regressor import RegressorRunConfig
    from bridge.regressor.data import load_regressor_data, training_windows
    from bridge.regressor.model import SpikingRegressor
    from bridge.regressor.neuron_setup import neuron_setup
    from bridge.regressor.training import train_bptt
    from tests.regressor_fixtures import tiny_cfg

    monkeypatch.setattr(bridge.logs, "PROGRESS_INTERVAL_S", 0.0)
    log_path = tmp_path / "regressor.log"
    setup_logging(log_path)
    settings = RegressorRunConfig.from_config(tiny_cfg(), "regressor")
    network = SpikingRegressor(neuron_setup("lif", None, settings).spec, seed=3)
    data = load_regressor_data(settings.mackey_glass_params)
    inputs, targets = training_windows(data, 40, 20, torch.float32)
    epochs = 5
    train_bptt(network, inputs, targets, settings.training.model_copy(update={"epochs": epochs}), 3)
    lines = [line for line in _lines(log_path) if "training: epoch" in line]
    assert [re.search(r"epoch (\d+)/", line).group(1) for line in lines] == [
        str(e) for e in range(1, epochs + 1)
    ]


def test_mapping_fit_logs_its_simulation_calls(
    repo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real LIF fit (synthetic f-I table) says how far it is: at interval 0 one line per
    simulation call, counts rising one by one, named by model and condition."""
    from bridge.config import MappingConfig, load_config
    from bridge.mapping.lif import fit_lif_condition
    from tests.test_mapping_lif_fit import WINDOW, bias_for_rheobase, table

    monkeypatch.setattr(bridge.logs, "PROGRESS_INTERVAL_S", 0.0)
    log_path = tmp_path / "mapping.log"
    setup_logging(log_path)
    cfg = MappingConfig.from_config(
        load_config([repo_root / "config" / "config.yaml"])["mapping"], "mapping"
    )
    fi, summary = table(5.0, 3.0, bias_for_rheobase(5.0, 3.0, 0.002), condition="mild")
    fit_lif_condition(fi, summary, cfg, 3.0, window=WINDOW)
    pattern = re.compile(
        r"LIF fit of mild: (\d+) parameter sets so far \((\d+) simulated\) in (\d+) simulation "
        r"calls \(\d+ s\)$"
    )
    found = [pattern.search(line) for line in _lines(log_path)]
    calls = [int(m.group(3)) for m in found if m]
    assert len(calls) >= 2 and calls == list(range(1, len(calls) + 1))
    simulated = [int(m.group(2)) for m in found if m]
    assert simulated == sorted(simulated) and simulated[0] >= 1
