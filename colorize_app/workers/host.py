"""The window's handle on its lanes: the network's, the preview's, the hints files', the
opening's and the films' hint tracks'.

app.py (or a test) makes one and hands it to the window, which submits work to `network`,
`preview`, `files`, `opening` and `tracks` (see lane.py), hears the model's news on `colorizer`
and how far a walk got on `finder`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from colorize_app.core.job import Job
from colorize_app.core.memory import keep_freed_memory
from colorize_app.core.sidecar import read_hints, write_hints
from colorize_app.workers.colorize_worker import ColorizeWorker
from colorize_app.workers.find_worker import FindWorker
from colorize_app.workers.lane import Lane, Task
from colorize_app.workers.preview_worker import PreviewWorker


def hint_track(job: Job, task: Task) -> list:
    """A film's job's answer: per frame, (hint index, x, y) of its hints there."""
    from colorize_app.core.film import hint_track as track  # PyAV, only once a film is hinted

    return track(job, task.is_cancelled)


class WorkerHost(QObject):
    """Lives in the window's thread and owns the lanes; not to be used after `shut_down()`."""

    def __init__(self, weights: str | Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.weights = weights  # None: the shipped model (the window digests it: core.provenance)
        keep_freed_memory()  # before the lanes' threads allocate (core.memory)
        # Normal priority, as the command line: the engine leaves a core free instead
        # (core.engine.batch_threads). At nice 10 the batch lost to any busy program (0.13 of the
        # command line's rate with other work on the machine).
        self.network = Lane("colorize")
        self.colorizer = ColorizeWorker(self.network, weights)
        # Thumbnails for a whole album must not compete with the window's thread.
        self.preview = Lane("preview", low_priority=True)
        self.previewer = PreviewWorker(self.preview)
        # Hints files, read as photos are added and written as hints change: small, but a slow
        # or network disk must not stall the window. Never cancelled, so no change is lost.
        self.files = Lane("files", low_priority=True)
        self.files.handle("read_hints", lambda photo, _task: tuple(read_hints(photo)))
        # The photo on screen's file, ahead of the others (its points are edited first).
        self.files.handle("read_hints_now", lambda photo, _task: tuple(read_hints(photo)), latest=True)
        self.files.handle("write_hints", lambda request, _task: write_hints(*request))
        # What a person opens: a folder walk can take minutes ("/" with sub-folders) and must be
        # stoppable, so not on `files`, which is never cancelled and is finished at quit. Normal
        # priority: the person waits for it (at nice 10, "/" took 14 s instead of 9 on a busy
        # machine), and it is mostly system calls, which leave the window the interpreter.
        self.opening = Lane("opening")
        self.finder = FindWorker(self.opening)
        # Where a film's hints are on each frame (for the markers): a pass or two over the film,
        # on its own lane so the frames on screen never wait for it. A newer one cancels it.
        self.tracks = Lane("tracks", low_priority=True)
        self.tracks.handle("hint_track", hint_track, latest=True)
        self._shut_down = False

    def shut_down(self) -> None:
        """Stop everything and wait for the threads, so nothing is left writing after the window.

        Closing the window calls it, and app.py again once the event loop ends: the second time
        does nothing.
        """
        if not self._shut_down:
            self._shut_down = True
            for lane in (self.network, self.preview, self.opening, self.tracks):
                lane.shut_down()  # the running job ends at its next checkpoint, as a cancelled one
            self.files.shut_down(finish_queue=True)  # every hint change reaches its file

