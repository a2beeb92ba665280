"""Hydra callbacks for experiments: analyse a sweep when its last run has finished."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.paths import REPO

log = logging.getLogger(__name__)


class AfterSweep(Callback):
    """Run an experiment's analysis script (`python <script> <sweep dir>`) at the end of the sweep."""

    def __init__(self, script: str) -> None:
        self.script = REPO / script

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = str(config.hydra.sweep.dir)
        # The sweep's own settings (budget, objective) as given now; a skipped run keeps its old record.
        settings = {k: v for k, v in config.items() if k != "hydra"}
        OmegaConf.save(OmegaConf.create(settings), Path(sweep_dir) / "sweep_config.yaml", resolve=True)
        log.info("Auswertung: %s %s", self.script.name, sweep_dir)
        done = subprocess.run([sys.executable, str(self.script), sweep_dir], cwd=REPO, check=False)
        if done.returncode != 0:
            log.error("Auswertung %s endete mit Code %d", self.script.name, done.returncode)
