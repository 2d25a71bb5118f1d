"""Parsl configuration: where build/validate/time tasks run.

- ``threads`` (default): a local thread pool of ``evals.parsl.workers``; each task spends its
  time in sandboxed compilers and binaries, so threads are enough on one machine.
- ``htex-local``: Parsl's HighThroughputExecutor with local worker processes.
- ``slurm``: the HighThroughputExecutor with a SlurmProvider: each block is one Slurm job
  (``evals.parsl.slurm``: partition, account, walltime, nodes, worker_init) running
  ``workers`` tasks per node, launched with srun. Workers must import ``ellora`` (activate
  the venv in ``worker_init``) and see the run directory (a shared filesystem).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

from ellora.evals.config import ParslSettings

LABEL = "ellora-eval"


def parsl_config(settings: ParslSettings, run_dir: Path):
    """The Parsl Config for these settings (Parsl is imported only here)."""
    from parsl.config import Config

    if settings.executor == "threads":
        from parsl.executors import ThreadPoolExecutor

        executor = ThreadPoolExecutor(label=LABEL, max_threads=settings.workers)
    else:
        from parsl.executors import HighThroughputExecutor

        executor = HighThroughputExecutor(
            label=LABEL, max_workers_per_node=settings.workers, cores_per_worker=1,
            provider=_provider(settings), **_launch_commands(settings))
    return Config(executors=[executor], run_dir=str(run_dir / "parsl"), strategy="simple",
                  initialize_logging=False, usage_tracking=0)


def _launch_commands(settings: ParslSettings) -> dict:
    """Parsl starts ``interchange.py`` (here) and ``process_worker_pool.py`` (on the workers)
    by name from PATH; name them through this Python so an unactivated venv works. On Slurm
    the workers' Python comes from ``worker_init`` (activate the venv there)."""
    import sys

    from parsl.executors.high_throughput.executor import DEFAULT_LAUNCH_CMD

    commands = {"interchange_launch_cmd": [sys.executable, "-m",
                                           "parsl.executors.high_throughput.interchange"]}
    if settings.executor == "htex-local":
        commands["launch_cmd"] = DEFAULT_LAUNCH_CMD.replace(
            "process_worker_pool.py", f"{sys.executable} -m "
            "parsl.executors.high_throughput.process_worker_pool", 1)
    return commands


def _provider(settings: ParslSettings):
    if settings.executor == "htex-local":
        from parsl.providers import LocalProvider

        return LocalProvider(init_blocks=1, max_blocks=1)
    from parsl.launchers import SrunLauncher
    from parsl.providers import SlurmProvider

    slurm = settings.slurm
    return SlurmProvider(partition=slurm.partition, account=slurm.account, qos=slurm.qos,
                         nodes_per_block=slurm.nodes_per_block, init_blocks=slurm.init_blocks,
                         max_blocks=slurm.max_blocks, walltime=slurm.walltime,
                         worker_init=slurm.worker_init,
                         scheduler_options=slurm.scheduler_options,
                         exclusive=slurm.exclusive, launcher=SrunLauncher())


class TaskPool:
    """Submits plain functions as Parsl apps; futures may be passed as arguments."""

    def __init__(self):
        from parsl import python_app

        self._python_app = python_app
        self._apps: dict[Callable, Callable] = {}

    def submit(self, function: Callable, *args) -> Future:
        if function not in self._apps:
            self._apps[function] = self._python_app(function, executors=[LABEL])
        return self._apps[function](*args)


@contextmanager
def parsl_pool(settings: ParslSettings, run_dir: Path) -> Iterator[TaskPool]:
    """Load Parsl for the duration of a run and shut it down afterwards."""
    import parsl

    dfk = parsl.load(parsl_config(settings, run_dir))
    try:
        yield TaskPool()
    finally:
        dfk.cleanup()
        parsl.clear()
