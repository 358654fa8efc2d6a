"""The planned photos of a batch colorized by Ray Data actors, each result recorded as it returns.

The photos become a dataset of (source, output) rows; ``map_batches`` hands batches of them to a
pool of ``Colorizer`` actors, each of which loads the model once and runs the same
``core.job.run_job`` the local engine runs (through a ``BatchRunner``, so it decodes the next photo
while the network works). Workers read and write the paths themselves, so every worker must reach
them (a shared filesystem, or object storage mounted at the same paths). Only small result rows
travel back to the driver, which writes them to the manifest as they stream in.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import threading
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import ray

from colorize_app.archive.attempts import TRIES, Attempts
from colorize_app.archive.manifest import Manifest, Row, text
from colorize_app.archive.reaper import Reaper, start_reaper
from colorize_app.core.batch import BatchItem, BatchRunner, Hints
from colorize_app.core.errors import ColorizeError
from colorize_app.core.hints import Hint
from colorize_app.core.job import Job, JobOptions, JobResult, will_skip
from colorize_app.core.vocabulary import Status

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 16  # photos per call of an actor: small, a photo is megabytes in memory
# A GPU does the network in milliseconds; decoding, composing and encoding on the CPU take
# ~0.24 s a 2 MP photo (benchmarks/archive_bench.py). So a GPU is shared by several workers, each
# with CPUs of its own (one decodes the next photo meanwhile), rather than held by one.
DEFAULT_CPUS_PER_WORKER, DEFAULT_CPUS_PER_GPU_WORKER = 1.0, 2.0
DEFAULT_GPUS_PER_WORKER = 0.25
MAX_BLOCKS = 20_000  # Ray Data schedules blocks; one per batch is plenty, a million is too many
FORGET_EVERY = 1_000  # recorded rows the driver tells the Attempts actor to forget at a time
COLUMNS = ("source", "output", "status", "reason", "seconds", "skip", "note", "lasting",
           "hinted")
_reaper: Reaper | None = None  # of the local Ray instance connect() started


@dataclass(frozen=True)
class ClusterPlan:
    """How many actors, and what each one asks of the cluster."""

    workers: int
    cpus_per_worker: float
    gpus_per_worker: float  # 0: the network runs on the worker's CPUs
    batch_size: int


def plan_cluster(resources: dict, options: JobOptions, *, workers: int | None = None,
                 batch_size: int = DEFAULT_BATCH_SIZE, cpus_per_worker: float | None = None,
                 gpus_per_worker: float | None = None) -> ClusterPlan:  # fmt: skip
    """Sizes for a cluster with ``resources`` (``ray.cluster_resources()``). With GPUs (and a
    device that allows them) each worker takes ``gpus_per_worker`` of one (default a quarter) and
    ``cpus_per_worker`` (default 2), and there are as many as the GPUs hold; else each takes
    ``cpus_per_worker`` (default 1) and there are as many as the CPUs hold. ``workers`` overrides
    the count."""
    gpus = float(resources.get("GPU", 0)) if options.device != "cpu" else 0.0
    if gpus:
        per_gpu = DEFAULT_GPUS_PER_WORKER if gpus_per_worker is None else gpus_per_worker
        per_cpu = DEFAULT_CPUS_PER_GPU_WORKER if cpus_per_worker is None else cpus_per_worker
        fits = int(gpus / per_gpu + 1e-9)
    else:
        per_gpu = 0.0
        per_cpu = DEFAULT_CPUS_PER_WORKER if cpus_per_worker is None else cpus_per_worker
        fits = int(float(resources.get("CPU", 1)) / per_cpu + 1e-9)
    return ClusterPlan(workers or max(1, fits), per_cpu, per_gpu, batch_size)


class Colorizer:
    """A Ray Data callable class: the model loaded once per actor, then ``run_job`` per photo."""

    def __init__(self, weights: str | None, options: dict, hints: list[dict] | None,
                 attempts: ray.actor.ActorHandle) -> None:  # fmt: skip
        from colorize_app.core.engine import Engine, default_threads

        self.attempts = attempts
        self.options = JobOptions(**options)
        # Every photo's hints (the command line's --hints FILE), as plain dicts on the way here;
        # None: each photo's hints file, read by its job
        self.hints = None if hints is None else tuple(Hint(**hint) for hint in hints)
        self.engine = Engine(weights, threads=default_threads(),
                             on_notice=lambda text: logger.warning("%s", text))  # fmt: skip
        self.engine.load(self.options.device)
        self.runner = BatchRunner(self.engine.predict)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        # paths travel as bytes: Arrow strings must be UTF-8, and file names need not be
        jobs = [Job(Path(os.fsdecode(source)), Path(os.fsdecode(output)), self.options,
                    hints=self.hints) for source, output in zip(batch["source"], batch["output"])]
        out: dict[str, list] = {name: [] for name in COLUMNS}
        told = None
        for i, job in enumerate(jobs):
            key = _key(job.source)
            ray.get(self.attempts.start.remote(key))  # told before: this worker may die on it
            row = _row(job, self.runner.run(job, upcoming=jobs[i + 1 : i + 2]))
            told = self.attempts.finish.remote(key, row)  # kept should a later photo kill the worker
            for name in COLUMNS:
                out[name].append(row[name])
        if told is not None:
            # heard (and so every finish before it: one caller's calls run in order) before the
            # driver can see these rows and tell the actor to forget them
            ray.get(told)
        return {name: np.asarray(values, dtype=object if name != "seconds" else np.float64)
                for name, values in out.items()}  # fmt: skip


def _row(job: Job, result: JobResult) -> dict:
    """A photo's result as the driver records it (small: no pixels)."""
    if result.status == Status.FAILED and will_skip(job):
        # another writer (a worker of an earlier, killed run) saved it meanwhile
        result = JobResult(Status.SKIPPED, f"already colorized ({job.output.name} exists)",
                           output=job.output)  # fmt: skip
    return {"source": os.fsencode(job.source),
            "output": os.fsencode(result.output) if result.output is not None else b"",
            "status": Status(result.status).value, "reason": text(result.reason),
            "seconds": float(result.seconds), "skip": result.skip,
            "note": text(result.note),  # told in the summary, as the local engine does
            "lasting": result.lasting,
            "hinted": result.status == Status.DONE and bool(result.job and result.job.hints)}  # fmt: skip


def connect(address: str | None = None) -> bool:
    """Join the Ray cluster at ``address`` ("auto", "HOST:PORT", "ray://..."), or start a local
    instance when None; does nothing when this process is connected already. True when it
    connected (the caller then calls ``disconnect``, which also stops what was started here)."""
    global _reaper
    if ray.is_initialized():
        return False
    if address is None:  # Ray's processes are ours to stop, even if this one is killed
        _reaper = start_reaper()
    with _python_signal_handlers():
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
    return True


def disconnect() -> None:
    """Leave Ray; a local instance that ``connect`` started is stopped, every process of it."""
    global _reaper
    ray.shutdown()
    if _reaper is not None:
        _reaper.close()
        _reaper = None


@contextlib.contextmanager
def _python_signal_handlers():
    """Keep this process's SIGTERM and SIGINT handlers through ``ray.init``, which puts its own
    in their place (they print a stack dump and abort: exit 134, not the run's "stopped")."""
    signals = (signal.SIGTERM, signal.SIGINT)
    in_main = threading.current_thread() is threading.main_thread()
    saved = {signum: signal.getsignal(signum) for signum in signals} if in_main else {}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            if handler is not None:
                signal.signal(signum, handler)


def run_archive(items: list[BatchItem], manifest: Manifest, *, weights: str | None = None,
                options: JobOptions | None = None, hints: Hints = None,
                address: str | None = None,
                workers: int | None = None, batch_size: int = DEFAULT_BATCH_SIZE,
                cpus_per_worker: float | None = None,
                gpus_per_worker: float | None = None, retry_failed: bool = False,
                on_result: Callable[[BatchItem], None] | None = None) -> int:  # fmt: skip
    """Colorize the waiting ``items`` (from ``core.batch.plan_batch``) on Ray, setting each
    one's status and reason, one manifest row written per item as its result arrives; returns
    how many failed untried, as an earlier run recorded them.

    Items the planner already settled (skipped, failed) are recorded without going to Ray; a
    photo the manifest has as done and whose output exists keeps that row; one it has as failed
    for a lasting reason (``manifest.Row.lasting``) fails again with the recorded reason,
    untried, unless ``retry_failed``. ``on_result(item)``
    hears each item once its row is committed. ``hints`` go to every photo's job, as in
    ``core.batch.run_batch``. Raises ColorizeError (a WeightsError when no
    worker could load the model); one bad photo only fails its own row.
    """
    options = options or JobOptions()
    done_before = manifest.done()
    failed_before = {} if retry_failed else manifest.failed()
    by_source: dict[str, BatchItem] = {}
    untried = 0
    for item in items:
        if item.status == Status.WAITING and _key(item.source) in failed_before:
            item.status, item.reason = Status.FAILED, failed_before[_key(item.source)]
            untried += 1
        elif item.status == Status.WAITING:
            by_source[_key(item.source)] = item
        elif not (item.status == Status.SKIPPED and _key(item.source) in done_before):
            _record(manifest, item, None, 0.0, on_result)
    if not by_source:
        return untried
    connected = connect(address)
    try:
        _run_on_ray(by_source, manifest, options, hints, weights, on_result,
                    plan_cluster(ray.cluster_resources(), options, workers=workers,
                                 batch_size=batch_size, cpus_per_worker=cpus_per_worker,
                                 gpus_per_worker=gpus_per_worker))  # fmt: skip
    finally:
        if connected:
            disconnect()
    return untried


def _run_on_ray(pending: dict[str, BatchItem], manifest: Manifest, options: JobOptions,
                hints: Hints, weights: str | None, on_result, plan: ClusterPlan) -> None:  # fmt: skip
    """Colorize ``pending`` (popping each item as its row is recorded). A photo that workers
    die on (the run would otherwise retry it for ever) is failed once ``TRIES`` workers died on
    it alone; the rest go on."""
    tries: Counter[str] = Counter()  # across the loop's streams: Ray may end one after one try
    while pending:
        attempts = Attempts.remote()
        try:
            _stream(pending, manifest, options, hints, weights, on_result, plan, attempts)
            return
        except Exception as e:  # the model could not load, the cluster went away, or workers died
            finished, unfinished = _heard(attempts, pending)
            for row in finished:  # photos a batch finished before a worker died on a later one
                _take(pending, manifest, row, on_result)
            tries.update(unfinished)  # none of them finished: _take popped only finished ones
            killers = sorted(key for key in unfinished if tries[key] >= TRIES)
            if not killers and not (unfinished and _worker_died(e)):
                raise _colorize_error(e) from e
            if not killers:
                continue  # the run ended before Ray tried the photos again: try them again
        finally:
            ray.kill(attempts)
        if plan.batch_size > 1:
            # A worker decodes the next photo of its batch while the network does this one, so
            # the photo it died on may be the next: each suspect alone, then the rest again.
            alone = {key: pending.pop(key) for key in killers}
            _run_on_ray(alone, manifest, options, hints, weights, on_result,
                        replace(plan, batch_size=1))  # fmt: skip
            continue
        for key in killers:
            item = pending.pop(key)
            item.status, item.reason = Status.FAILED, _killed(item.source)
            _record(manifest, item, None, 0.0, on_result, lasting=True)


def _stream(pending: dict[str, BatchItem], manifest: Manifest, options: JobOptions,
            hints: Hints, weights: str | None, on_result, plan: ClusterPlan,
            attempts: ray.actor.ActorHandle) -> None:  # fmt: skip
    rows = [{"source": os.fsencode(os.path.abspath(item.source)),
             "output": os.fsencode(os.path.abspath(item.output))} for item in pending.values()]
    # at least a block per worker, or some workers idle; no more workers than photos
    plan = replace(plan, workers=min(plan.workers, len(rows)))
    blocks = min(len(rows), MAX_BLOCKS, max(plan.workers, math.ceil(len(rows) / plan.batch_size)))
    logger.info("Ray: %d workers, %s CPU and %s GPU each, %d photos a batch", plan.workers,
                plan.cpus_per_worker, plan.gpus_per_worker, plan.batch_size)  # fmt: skip
    # Ray Data's default retries a batch whose worker died for ever; its only way to say how
    # often is a remote argument, which Ray 2.60 warns about (no named parameter replaces it)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ray.util.annotations.RayDeprecationWarning)
        dataset = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
            Colorizer,
            fn_constructor_kwargs={"weights": weights, "options": asdict(options),
                                   "hints": None if hints is None else [asdict(h) for h in hints],
                                   "attempts": attempts},
            batch_size=plan.batch_size,
            compute=ray.data.ActorPoolStrategy(size=plan.workers),
            num_cpus=plan.cpus_per_worker,
            num_gpus=plan.gpus_per_worker or None,
            max_task_retries=TRIES - 1,
        )  # fmt: skip
    recorded: list[str] = []
    for row in dataset.iter_rows():
        recorded.append(_take(pending, manifest, row, on_result))
        if len(recorded) >= FORGET_EVERY:  # the actor keeps only what a dead batch would need
            attempts.forget.remote(recorded)
            recorded = []


def _take(pending: dict[str, BatchItem], manifest: Manifest, row, on_result) -> str:
    """Record a result row that came back and stop waiting for its photo; returns its key."""
    key = text(os.fsdecode(row["source"]))
    item = pending.pop(key)
    item.status, item.reason, item.skip = Status(row["status"]), row["reason"], row["skip"]
    item.note, item.hinted = row["note"], bool(row["hinted"])
    output = os.fsdecode(row["output"]) if row["output"] else None
    _record(manifest, item, output, row["seconds"], on_result, lasting=row["lasting"])
    return key


def _heard(attempts: ray.actor.ActorHandle, pending: dict[str, BatchItem]) -> tuple[list, dict]:
    """Of the waiting photos: the result rows workers finished but whose batch never came back,
    and those workers died on, with how often they were started (neither when the cluster
    cannot say)."""
    try:
        finished, unfinished = ray.get([attempts.finished.remote(), attempts.unfinished.remote()],
                                       timeout=60)  # fmt: skip
    except Exception:  # the cluster itself went away: the run's own error says so
        logger.debug("No word from the run's attempts", exc_info=True)
        return [], {}
    return ([row for key, row in finished.items() if key in pending],
            {key: count for key, count in unfinished.items() if key in pending})


def _worker_died(error: BaseException) -> bool:
    """Whether the run stopped because a worker (an actor) died or is restarting."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ray.exceptions.RayActorError):
            return True
        seen = getattr(seen, "cause", None) or seen.__cause__
    return False


def _killed(source) -> str:
    return (f"{source} stopped the worker colorizing it, {TRIES} times: the system ended the "
            "worker (out of memory?) or a decoder crashed on the file (damaged?). It is not "
            "tried again unless --retry-failed.")


def _record(manifest: Manifest, item: BatchItem, output: str | None, seconds: float,
            on_result: Callable[[BatchItem], None] | None, lasting: bool = False) -> None:  # fmt: skip
    manifest.record(Row(_key(item.source), Status(item.status).value, item.reason, seconds, output,
                        bool(lasting)))  # fmt: skip
    if on_result is not None:
        on_result(item)


def _key(path) -> str:
    # absolute: workers do not share the driver's working folder, and a re-run from another
    # folder must find the same manifest rows; as the manifest stores it
    return text(os.path.abspath(path))


def _colorize_error(error: BaseException) -> ColorizeError:
    """The ColorizeError a worker raised (Ray wraps it, sometimes twice), or one that says what
    happened to the run."""
    seen = error
    while seen is not None:
        cause = getattr(seen, "cause", None)
        if isinstance(seen, ColorizeError) and not isinstance(seen, ray.exceptions.RayError):
            return seen
        if isinstance(cause, ColorizeError):
            return cause
        seen = cause if isinstance(cause, BaseException) else seen.__cause__
    return ColorizeError(f"The Ray run stopped: {type(error).__name__}: {error}. "
                         "Run the same command again to finish the rest.")  # fmt: skip
