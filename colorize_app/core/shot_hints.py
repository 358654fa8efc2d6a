"""Hints on a film: each applies to the whole shot that holds the frame it was placed on, and
follows the motion there.

A hint placed on frame k of a shot must colour the shot's earlier frames too, yet a film is read
forward once and never held in memory. So, before colouring, a cheap first pass (``plan_hints``)
reads the film's lightness at the network's size, finds the cuts with the same flow and the same
rule as ``steady.SteadyColour``, and carries a grid of *seeds* along the motion. Each seed
remembers the frame and the place it started from: the shot's first frame, or the frame where its
part of the picture came into view (an empty grid cell gets a new seed). On frame k, the seed that
arrives nearest a hint says where the hint's spot was when it came into view. The colouring pass
starts the hint there, carries it along the motion, sets it exactly where it was placed on frame
k, and drops it at the shot's end. Memory: one small frame and a few thousand seeds, however long
the film; time: a decode and a small flow per frame, and only for hints placed after frame 0.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from .hints import Hint
from .steady import SteadyParams, cut_between, follow_points

logger = logging.getLogger(__name__)

SEED_SPACING = 4  # pixels at the network's size between seeds (a 256 x 144 frame: about 2,300)
NEAREST = 2.5  # seed spacings: a hint without a seed this near starts on its own frame


@dataclass(frozen=True)
class HintPlan:
    """Where each of a film's hints starts (``starts``: slot -> (frame, Hint there)) and where it
    was placed (``anchors``: slot -> Hint with its frame). Positions are 0..1 of the coded frame."""

    starts: dict[int, tuple[int, Hint]]
    anchors: dict[int, Hint]

    def starting(self, frame: int) -> list[tuple[int, Hint]]:
        """(slot, hint) of the hints that start on ``frame``."""
        return [(slot, hint) for slot, (first, hint) in self.starts.items() if first == frame]

    def anchored(self, frame: int) -> list[tuple[int, Hint]]:
        """(slot, hint) of the hints placed on ``frame``, exactly where they were placed."""
        return [(slot, hint) for slot, hint in self.anchors.items() if _frame(hint) == frame]

    def to_json(self) -> str:
        starts = {slot: [first, _row(hint)] for slot, (first, hint) in self.starts.items()}
        return json.dumps({"starts": starts, "anchors": {s: _row(h) for s, h in self.anchors.items()}})

    @classmethod
    def from_json(cls, text: str) -> HintPlan:
        data = json.loads(text)
        starts = {int(slot): (int(first), Hint(*row)) for slot, (first, row) in data["starts"].items()}
        return cls(starts, {int(slot): Hint(*row) for slot, row in data["anchors"].items()})


def placed_plan(hints: Iterable[Hint]) -> HintPlan:
    """The plan when no hint needs a first pass: each starts on the frame it was placed on, where
    it was placed (hints on frame 0; and every hint when colour is not carried)."""
    anchors = dict(enumerate(hints))
    return HintPlan({slot: (_frame(hint), hint) for slot, hint in anchors.items()}, anchors)


def needs_scouting(hints: Iterable[Hint], params: SteadyParams) -> bool:
    """Whether ``plan_hints`` must read the film first: a hint placed after its first frame,
    with colour carried along the motion."""
    return params.carry > 0 and any(_frame(hint) > 0 for hint in hints)


def plan_hints(hints: tuple[Hint, ...], frames: Iterable[np.ndarray], params: SteadyParams,
               check: Callable[[int], None] | None = None) -> HintPlan:  # fmt: skip
    """Where each hint starts, from one pass over the film's ``frames`` (uint8 lightness at the
    network's size, every frame in order). ``check(index)`` is called before each frame (it may
    raise to stop)."""
    anchors = dict(enumerate(hints))
    waiting = dict(anchors)
    starts: dict[int, tuple[int, Hint]] = {}
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    seeds = previous = None
    for index, gray in enumerate(frames):
        if check is not None:
            check(index)
        if previous is None or previous.shape != gray.shape:
            seeds = _Seeds.fresh(gray.shape, index)
        else:
            motion = flow.calc(gray, previous, None)
            if cut_between(previous, gray, motion, params):
                seeds = _Seeds.fresh(gray.shape, index)
            else:
                seeds.follow(motion, index)
        previous = gray
        for slot, hint in [(s, h) for s, h in waiting.items() if _frame(h) == index]:
            starts[slot] = seeds.origin(hint, index)
            del waiting[slot]
        if not waiting:
            break
    for hint in waiting.values():
        logger.info("A hint placed on frame %d is past the film's end; it is not used", _frame(hint))
    return HintPlan(starts, {slot: anchors[slot] for slot in starts})


def track_hints(hints: tuple[Hint, ...], frames: Callable[[], Iterable[np.ndarray]],
                params: SteadyParams, check: Callable[[int], None] | None = None,
                ) -> list[tuple[tuple[int, float, float], ...]]:  # fmt: skip
    """Where each hint is on each frame, as the colouring pass carries it: per frame, (index into
    ``hints``, x, y) of the hints that apply there. ``frames()`` gives the film's small frames
    from the start (called twice when a first pass is needed). For the window's markers: a few
    numbers a frame, never the frames."""
    plan = (plan_hints(hints, frames(), params, check) if needs_scouting(hints, params)
            else placed_plan(hints))  # fmt: skip
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    track, current, previous = [], {}, None
    for index, gray in enumerate(frames()):
        if check is not None:
            check(index)
        if previous is not None and previous.shape == gray.shape and params.carry > 0:
            motion = flow.calc(gray, previous, None)
            if cut_between(previous, gray, motion, params):
                current = {}
            else:
                height, width = gray.shape
                at = np.array([[h.x * width, h.y * height] for h in current.values()], np.float32)
                moved = follow_points(at.reshape(-1, 2), motion)
                current = {slot: replace(hint, x=float(x) / width, y=float(y) / height)
                           for (slot, hint), (x, y) in zip(current.items(), moved)
                           if not np.isnan(x)}  # fmt: skip
        previous = gray
        current.update(plan.starting(index))
        current.update(plan.anchored(index))
        track.append(tuple((slot, hint.x, hint.y) for slot, hint in current.items()))
    return track


class _Seeds:
    """Points carried along the motion, each with the frame and place it started from."""

    def __init__(self, shape: tuple[int, int], points: np.ndarray, first: np.ndarray,
                 origins: np.ndarray) -> None:  # fmt: skip
        self.shape, self.points, self.first, self.origins = shape, points, first, origins

    @classmethod
    def fresh(cls, shape: tuple[int, int], index: int) -> _Seeds:
        seeds = cls(shape, np.zeros((0, 2), np.float32), np.zeros(0, np.int64),
                    np.zeros((0, 2), np.float32))  # fmt: skip
        seeds._fill(index)
        return seeds

    def follow(self, motion: np.ndarray, index: int) -> None:
        """Carry the seeds onto the next frame (``motion``: from it back to the last); a seed
        carried out of the frame goes, two in one cell keep the older, an empty cell gets one."""
        moved = follow_points(self.points, motion)
        inside = ~np.isnan(moved[:, 0])
        self.points, self.first, self.origins = moved[inside], self.first[inside], self.origins[inside]
        order = np.argsort(self.first, kind="stable")
        _, keep = np.unique(self._cells(self.points[order]), return_index=True)
        keep = order[keep]
        self.points, self.first, self.origins = self.points[keep], self.first[keep], self.origins[keep]
        self._fill(index)

    def origin(self, hint: Hint, index: int) -> tuple[int, Hint]:
        """(frame, hint there) where the spot under ``hint`` (placed on frame ``index``) came
        into view: the nearest seed's start, moved by the hint's offset from that seed."""
        height, width = self.shape
        at = np.array([hint.x * width, hint.y * height], np.float32)
        distances = np.hypot(*(self.points - at).T) if len(self.points) else np.array([np.inf])
        nearest = int(np.argmin(distances))
        if distances[nearest] > NEAREST * SEED_SPACING:
            return index, hint
        x, y = self.origins[nearest] + (at - self.points[nearest])
        start = Hint(float(np.clip(x / width, 0, 1)), float(np.clip(y / height, 0, 1)), hint.color,
                     hint.frame)  # fmt: skip
        return int(self.first[nearest]), start

    def _cells(self, points: np.ndarray) -> np.ndarray:
        columns = -(-self.shape[1] // SEED_SPACING)
        inside = np.minimum(points, np.float32([self.shape[1] - 1e-3, self.shape[0] - 1e-3]))
        cells = np.floor(inside / SEED_SPACING).astype(np.int64)
        return cells[:, 1] * columns + cells[:, 0]

    def _fill(self, index: int) -> None:
        height, width = self.shape
        ys, xs = np.mgrid[0:height:SEED_SPACING, 0:width:SEED_SPACING]
        centres = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32) + SEED_SPACING / 2
        centres = np.minimum(centres, np.float32([width - 0.5, height - 0.5]))
        empty = ~np.isin(self._cells(centres), self._cells(self.points))
        new = centres[empty]
        self.points = np.concatenate([self.points, new])
        self.first = np.concatenate([self.first, np.full(len(new), index, np.int64)])
        self.origins = np.concatenate([self.origins, new])


def _frame(hint: Hint) -> int:
    return hint.frame or 0


def _row(hint: Hint) -> list:
    return [hint.x, hint.y, hint.color, hint.frame]
