"""`colorize PATH...`: colour photos and films from a terminal with the same engine the window uses.

Exit status: 0 when every photo was coloured or skipped, 1 when any failed, 2 when nothing could
start (a path that does not exist, an output folder that cannot be made or written, no model), 130
when interrupted (Ctrl-C), 143 when terminated (SIGTERM). Torch and OpenCV are imported only after
the arguments are read, so --help is quick. Names are printed whatever bytes they hold: those that
are not valid UTF-8 show as \\xNN escapes.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from colorize_app import __version__
from colorize_app.cli.report import EXIT_OK, report, say
from colorize_app.core.names import PrintableFormatter, printable
from colorize_app.core.settings import SETTINGS, Setting
from colorize_app.core.vocabulary import Status

EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED = 2, 130, 143  # and report's EXIT_OK, EXIT_FAILED
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell tool whose reader went away
ENGINES = ("local", "ray")
MAX_WORKERS = 1_000_000  # Ray workers, photos per call of one
RESUME = ("Finished photos (and a film's finished parts) are saved; run the same command to do "
          "the rest.")
# Run again, --overwrite would make the finished ones again; --update keeps what is current.
RESUME_OVERWRITE = ("Finished photos (and a film's finished parts) are saved; run the same command "
                    "with --update instead of --overwrite to do the rest and keep them.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="colorize",
        description="Colour black-and-white photos and films. Each result is saved next to its "
        "original as <name>_colorized.<ext>; originals are never changed. Films (MP4, MOV, MKV, "
        "AVI, WebM) keep their sound and subtitles; AVI and WebM ones come out as MKV.",
        epilog="Results that already exist are skipped unless --overwrite, so running the same "
        "command again finishes an interrupted batch, and a stopped film resumes where it "
        "stopped; those saved with other hints, settings or model, or whose original changed "
        "since (a rescan, a retouch), are named as out of date and redone with --update. Photos "
        "already in colour are skipped unless --include-colour.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="photos, films and/or folders")
    for name, short in (("recursive", "-r"), ("output_dir", "-o"), ("suffix", ""),
                        ("export_format", ""), ("jpeg_quality", ""), ("render_size", ""),
                        ("saturation", ""), ("device", "")):
        _add_setting(parser, SETTINGS[name], short)
    parser.add_argument("--weights", metavar="FILE",
                        help="a .safetensors model to use instead of the installed one")  # fmt: skip
    parser.add_argument("--overwrite", action="store_true", help="replace existing results")
    parser.add_argument("--update", action="store_true",
                        help="redo results that are out of date (saved with other hints, settings "
                        "or model); without it they are kept and named")  # fmt: skip
    parser.add_argument("--include-colour", "--include-color", action="store_true",
                        help="colour photos that are already in colour too (from their lightness); "
                        "without it they are reported and skipped")  # fmt: skip
    _add_setting(parser, SETTINGS["provenance"])
    hints = parser.add_mutually_exclusive_group()
    hints.add_argument("--no-hints", action="store_true",
                       help="ignore the colour hints saved next to photos and films (<file>.colorize.json)")  # fmt: skip
    hints.add_argument("--hints", metavar="FILE",
                       help="apply the colour hints in FILE (a .colorize.json) to every photo "
                       "(and to each film: a point on its frame's shot, or the first shot)")  # fmt: skip
    _add_setting(parser, SETTINGS["max_megapixels"])
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    _add_archive_arguments(parser)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _add_setting(parser: argparse.ArgumentParser, setting: Setting, short: str = "") -> None:
    """One of core.settings' settings as an option, with its limits and check."""
    flags = [short, setting.flag] if short else [setting.flag]
    if setting.type is bool:  # on by default: the option turns it off (--no-provenance)
        parser.add_argument(*flags, action="store_false" if setting.default else "store_true",
                            dest=setting.name, help=setting.help)  # fmt: skip
        return

    def parse(text: str):
        try:
            return setting.parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = setting.type.__name__  # what argparse calls it in "invalid ... value"
    given = setting.default != ""
    parser.add_argument(*flags, type=parse, default=setting.default if given else None,
                        metavar=setting.metavar or "{" + ",".join(setting.choices) + "}",
                        help=f"{setting.help} (default: %(default)s)" if given else setting.help)


def _format(args: argparse.Namespace) -> str | None:
    return None if args.format == "same" else args.format


def _add_archive_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "archive scale (Ray)", "Colour millions of photos on a Ray cluster; needs "
        "pip install 'colorize[archive]'. Every worker must reach the photos' paths.")
    group.add_argument("--engine", choices=ENGINES, default=ENGINES[0],
                       help="local: this computer (default); ray: Ray Data workers")  # fmt: skip
    group.add_argument("--ray-address", metavar="ADDR",
                       help="join this cluster (auto, HOST:PORT, ray://HOST:PORT); default: start Ray here")  # fmt: skip
    group.add_argument("--workers", type=_positive_int, metavar="N",
                       help="Ray workers, each holding a model (default: one per GPU, else per CPU)")  # fmt: skip
    group.add_argument("--batch-size", type=_positive_int, default=16, metavar="N",
                       help="photos per call of a worker (default: %(default)s)")  # fmt: skip
    group.add_argument("--cpus-per-worker", type=_positive_float, metavar="X",
                       help="CPUs each worker reserves (default: 1, or 2 on a GPU cluster)")  # fmt: skip
    group.add_argument("--gpus-per-worker", type=_positive_float, metavar="X",
                       help="the share of a GPU each worker reserves when the cluster has GPUs "
                       "(default: 0.25, four workers a GPU)")  # fmt: skip
    group.add_argument("--manifest", metavar="FILE",
                       help="the run's SQLite record, one row per photo (default: "
                       "colorize-manifest.sqlite in the output folder or the first folder)")  # fmt: skip
    group.add_argument("--retry-failed", action="store_true",
                       help="try again the photos the manifest records as failed")  # fmt: skip


def _positive_int(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_WORKERS}, not {value}")
    return value


_positive_int.__name__ = "whole number"


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so that temporary files are removed on the way out."""


def _on_terminate(signum, frame):
    raise Terminated()


class _Formatter(PrintableFormatter):
    """Log lines without tracebacks (unless --verbose), with names made printable."""

    def __init__(self, verbose: bool) -> None:
        super().__init__("colorize: %(levelname)s: %(message)s")
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        if not self.verbose and record.exc_info:
            record = logging.makeLogRecord(record.__dict__)
            record.exc_info = record.exc_text = None
        return super().format(record)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.output_dir is not None and not args.output_dir.strip():  # -o "": a variable unset
        parser.error("-o/--output-dir needs a folder (it was given an empty name)")
    from colorize_app.cli.native_output import native_messages_to_log

    with native_messages_to_log():
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    handler = logging.StreamHandler()
    handler.setFormatter(_Formatter(args.verbose))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, handlers=[handler])
    # Pillow's own warnings are about files we already judge (and report) ourselves.
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(logging.DEBUG if args.verbose else logging.ERROR)
    from colorize_app.core.errors import ColorizeError, ModelNotInstalledError

    resume = RESUME_OVERWRITE if args.overwrite else RESUME
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_terminate) if in_main_thread else None
    try:
        return _run(args)
    except ModelNotInstalledError as e:
        _error(e)
        if "--weights" not in str(e):
            print("See 'Training your own model' in the README, or pass --weights FILE.",
                  file=sys.stderr)  # fmt: skip
        return EXIT_ERROR
    except ColorizeError as e:
        _error(e)
        return EXIT_ERROR
    except Terminated:
        _error(f"stopped (terminated). {resume}")
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        _error(f"interrupted. {resume}")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `colorize album | head -1`: the reader stopped reading
        # What is left to print goes nowhere, so that Python's last flush does not fail too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        _error(f"stopped: its output was closed. {resume}")
        return EXIT_BROKEN_PIPE
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        logging.captureWarnings(False)


def _error(message) -> None:
    say(f"colorize: error: {message}", sys.stderr)


def _run(args: argparse.Namespace) -> int:
    import cv2

    from colorize_app.core.errors import ColorizeError
    from colorize_app.core.memory import keep_freed_memory

    keep_freed_memory()  # photo after photo reuses the same pages (core.memory), as the window does
    if args.engine == "ray":
        from colorize_app.archive import INSTALL_HINT, ray_available

        if not ray_available():
            raise ColorizeError(f"--engine ray needs Ray, which is not installed: {INSTALL_HINT}")
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # we report errors ourselves
    args.hint_points = _hints_given(args)
    with _manifest_lock(args) as args.manifest_lock:
        return _plan_and_run(args)


def _plan_and_run(args: argparse.Namespace) -> int:
    from colorize_app.core.batch import Walk, plan_batch
    from colorize_app.core.errors import ColorizeError

    walk = Walk()
    items = plan_batch(args.paths, recursive=args.recursive, suffix=args.suffix,
                       output_dir=args.output_dir, overwrite=args.overwrite,
                       format=_format(args), options=_options(args), hints=args.hint_points,
                       films=args.engine == "local", walk=walk)  # fmt: skip
    _say_what_was_left(args, walk.films_passed, walk.links_passed)
    if not items:
        print("No JPEG, PNG, TIFF, BMP or WebP photos (or MP4, MOV, MKV, AVI or WebM films) found.")
        return EXIT_OK
    made = _make_output_folder(args.output_dir) if args.output_dir is not None else []
    try:
        status = _run_planned(items, args)
    except ColorizeError:
        _remove_if_empty(made)  # nothing could start: leave no empty folder behind
        raise
    if status == EXIT_ERROR:
        _remove_if_empty(made)
    return status


def _manifest_lock(args: argparse.Namespace):
    """The Ray engine's hold on its manifest, taken before the plan, so that a second run on a
    manifest in use stops at once rather than after walking the archive: where the manifest's
    folder is there (a second run of the same command finds it so). Otherwise the manifest takes
    it when opened: no folder is made, and no lock file left beside a mistyped path, before the
    plan has said what is wrong."""
    import contextlib

    if args.engine != "ray":
        return contextlib.nullcontext()
    path = _manifest_path(args)
    beside_a_path = not (args.manifest or args.output_dir)  # the first one given
    if not path.parent.is_dir() or (beside_a_path and not os.path.exists(args.paths[0])):
        return contextlib.nullcontext()
    from colorize_app.archive.manifest import ManifestLock

    return ManifestLock(path)


def _manifest_path(args: argparse.Namespace):
    from pathlib import Path

    from colorize_app.archive.manifest import default_manifest_path

    return Path(args.manifest) if args.manifest else default_manifest_path(args.paths, args.output_dir)


def _make_output_folder(folder) -> list:
    """Make ``folder`` and the folders above it that are missing; returns those, deepest first."""
    from pathlib import Path

    from colorize_app.core.errors import ImageWriteError

    missing, above = [], Path(folder)
    while not above.exists() and above.parent != above:
        missing.append(above)
        above = above.parent
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise ImageWriteError(f"Cannot create the output folder {folder}: {e.strerror or e}.") from None
    return missing


def _remove_if_empty(folders) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or not ours to remove): the folders above it are not either


def _run_planned(items, args: argparse.Namespace) -> int:
    from colorize_app.core.batch import BatchSummary, check_output_folders

    _fail_named_non_photos(items)
    check_output_folders(items)
    todo = [item for item in items if item.status == Status.WAITING]
    if not todo and any(item.refused for item in items):
        report(BatchSummary(items))  # every result was refused up front: nothing could start
        return EXIT_ERROR
    if args.engine == "ray":
        return _colorize_on_ray(items, args)
    if not todo:  # a re-run with nothing left to do need not load the model
        return report(BatchSummary(items))
    # Importing torch and loading the model take seconds: say something first.
    print(f"colorize: {len(todo)} to colour; loading the model...", file=sys.stderr, flush=True)
    _warm_table_for(todo)  # on the other core, while torch is imported
    import torch

    threads = torch.get_num_threads()  # the engine sets its own (core.engine.batch_threads)
    try:
        return report(_colorize(items, todo, args))
    finally:
        torch.set_num_threads(threads)  # main() may run inside a bigger program or tests


def _warm_table_for(todo) -> None:
    """Start building the colour table the first photo will use, if it is big enough to use it
    (its header only is read here; a photo that cannot be read fails later, where it is read)."""
    from PIL import Image

    from colorize_app.core.batch import is_film
    from colorize_app.core.chroma import warm_table
    from colorize_app.core.files import open_regular

    first = next((item.source for item in todo if not is_film(item.source)), None)
    if first is None:
        return
    try:  # open_regular never waits on a pipe or a device; Image.open reads the header only
        with os.fdopen(open_regular(first), "rb") as file, Image.open(file) as im:
            width, height = im.size
            shape = {"L": (height, width), "RGB": (height, width, 3)}.get(im.mode)
    except Exception:  # only a guess: the photo's own read says what is wrong with it
        return
    if shape:  # as read_image will give its pixels: 8-bit gray or RGB
        warm_table(shape)


def _say_what_was_left(args: argparse.Namespace, films_left: int, links_left: int = 0) -> None:
    """Without -r, photos in sub-folders are left alone; on Ray, films are (``films_left``, as
    the plan's walk counted them); with -r, links to folders are not followed (``links_left``):
    say how many, and how to include them."""
    from colorize_app.core.batch import photos_in_subfolders

    films = args.engine == "local"
    left = 0 if args.recursive else photos_in_subfolders(args.paths, suffix=args.suffix, films=films)
    if left:
        what = "photo(s) or film(s)" if films else "photo(s)"
        print(f"colorize: left {_counted(left)} {what} in sub-folders alone; -r includes them.",
              file=sys.stderr)
    if films_left:
        print(f"colorize: left {films_left:,} film(s) alone: the Ray engine colours photos "
              "only; --engine local colours films.", file=sys.stderr)  # fmt: skip
    if links_left:
        print(f"colorize: left {links_left:,} linked folder(s) alone: links to folders are not "
              "followed (a link may lead back up the tree); give their targets as paths to "
              "include them.", file=sys.stderr)  # fmt: skip


def _counted(count: int) -> str:
    from colorize_app.core.batch import SUBFOLDER_COUNT_LIMIT

    return f"{SUBFOLDER_COUNT_LIMIT:,} or more" if count >= SUBFOLDER_COUNT_LIMIT else str(count)


def _fail_named_non_photos(items) -> None:
    """A file the user named that is not a photo was not done: a failure (exit 1). Folders'
    other files never become items, so a folder walk stays quiet about them."""
    from colorize_app.core.batch import NOT_A_PHOTO, NOT_A_PHOTO_OR_FILM

    for item in items:
        if item.status == Status.SKIPPED and item.reason in (NOT_A_PHOTO, NOT_A_PHOTO_OR_FILM):
            item.status = Status.FAILED


def _hints_given(args: argparse.Namespace):
    """The points of --hints FILE (None without it); its problem is the run's error (exit 2)."""
    if args.hints is None:
        return None
    from colorize_app.core.sidecar import read_hints_file

    return tuple(read_hints_file(args.hints))


def _options(args):
    from colorize_app.core.assets import default_weights_path
    from colorize_app.core.job import JobOptions
    from colorize_app.core.provenance import model_identity

    # The model's digest without loading it: a re-run with nothing to redo never imports torch.
    model = model_identity(args.weights or default_weights_path())
    return JobOptions(render_size=args.render_size, saturation=args.saturation,
                      device=args.device, overwrite=args.overwrite,
                      max_pixels=args.max_megapixels * 1_000_000, sidecars=not args.no_hints,
                      format=_format(args), quality=args.jpeg_quality,
                      provenance=args.provenance, update=args.update,
                      include_colour=args.include_colour, model_name=model.name,
                      model_sha256=model.sha256)  # fmt: skip


def _colorize_on_ray(items, args) -> int:
    from colorize_app.archive.manifest import Manifest
    from colorize_app.archive.runner import run_archive
    from colorize_app.core.batch import BatchSummary

    weights = os.path.abspath(args.weights) if args.weights else None
    if any(item.status == Status.WAITING for item in items):
        from colorize_app.core.weights import load_model

        load_model(weights)  # no usable model: exit 2 here, before Ray starts
    path = _manifest_path(args)

    def on_result(item):
        if item.status == Status.FAILED:
            say(f"failed: {item.reason}", sys.stderr)

    with Manifest(path, lock=args.manifest_lock) as manifest:
        untried = run_archive(items, manifest, weights=weights, options=_options(args),
                    hints=args.hint_points, address=args.ray_address, workers=args.workers, batch_size=args.batch_size,
                    cpus_per_worker=args.cpus_per_worker, gpus_per_worker=args.gpus_per_worker,
                    retry_failed=args.retry_failed, on_result=on_result)  # fmt: skip
        counts = manifest.counts()
    status = report(BatchSummary(items, hinted=sum(item.hinted for item in items)))
    say(f"Manifest {path}: {counts['done']} done, {counts['skipped']} skipped, "
          f"{counts['failed']} failed in all runs.")  # fmt: skip
    if untried:
        say(f"{untried} of the failed were not tried again: an earlier run found their files "
            "unreadable as photos (or they stopped its workers). --retry-failed tries them.")
    return status


def _colorize(items, todo, args):
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    from colorize_app.core.batch import is_film, run_batch
    from colorize_app.core.engine import Engine, default_threads

    options = _options(args)
    engine = Engine(args.weights, threads=default_threads(),
                    on_notice=lambda text: print(f"colorize: {text}", file=sys.stderr))
    engine.load(args.device)  # no model, or a GPU that is not there: exit 2 before any photo
    logging.getLogger(__name__).info("Colouring %d photos on the %s", len(todo),
                                     engine.device_name())

    waiting = {id(item) for item in todo}
    # The bar counts whole photos, so its percentage, its bar and "n/total" always agree; the
    # last photo only sets the count, and closing the bar draws the 100 % line, once. A film is
    # one item that takes minutes or hours: with films, the bar moves within each film (frames
    # done) and shows the share done and the time left instead of a count.
    films = any(is_film(item.source) for item in todo)
    shown = {}  # the share of each film already drawn, 0..1
    bar_format = "{l_bar}{bar}| [{elapsed}<{remaining}]" if films else None
    with tqdm(total=len(todo), unit="photo", file=sys.stderr, dynamic_ncols=True,
              bar_format=bar_format) as bar, \
            logging_redirect_tqdm():  # fmt: skip  (warnings go above the bar, not through it)

        def on_item(item):
            if id(item) not in waiting:
                return  # skipped or failed while planning: not part of the bar
            if item.note:
                bar.write(printable(f"colorize: {item.note}"), file=sys.stderr)
            if item.status == Status.FAILED:
                bar.write(printable(f"failed: {item.reason}"), file=sys.stderr)
            rest = 1.0 - shown.pop(id(item), 0.0)
            if bar.n + rest < bar.total - 1e-9:
                bar.update(rest)
            else:
                bar.n = bar.total

        def on_progress(item, fraction):
            if is_film(item.source) and fraction < 1.0 and fraction > shown.get(id(item), 0.0):
                bar.update(fraction - shown.get(id(item), 0.0))
                shown[id(item)] = fraction

        return run_batch(items, engine.predict, options, hints=args.hint_points, on_item=on_item,
                         on_progress=on_progress if films else None)  # fmt: skip
