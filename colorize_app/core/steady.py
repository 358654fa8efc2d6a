"""Steady colour for films: colour that follows the motion instead of being guessed anew each frame.

Colorizing each frame on its own flickers: the network's guess for a coat or a wall moves a little
from one frame to the next. Here the network sees only *keyframes* (every few frames, and
whenever much of the picture cannot be followed); in between, the last frame's colour is carried
onto the new one along the optical flow (OpenCV's DIS, on the lightness at the network's size).
On a keyframe the carried colour and the network's new prediction are blended, per pixel, by how
well the flow explains the new frame there: where the warped lightness matches, mostly the carried
colour; where it does not (something appeared, moved fast or was uncovered), the new prediction.
A scene cut (most of the picture unexplained) starts afresh from the new frame's prediction.
Colour hints follow the motion too, and end with their shot; a ``shot_hints.HintPlan`` says on
which frame each starts and where (a hint placed mid-shot starts on the shot's first frame).

Everything works at the network's size (256 pixels on the long side by default), so it costs a
few milliseconds a frame whatever the film's resolution. The design and its numbers were chosen
by benchmarks/video_eval.py (the metrics' (a, b) warp error and per-frame quality).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .hints import Hint

if TYPE_CHECKING:
    from .shot_hints import HintPlan


@dataclass(frozen=True)
class SteadyParams:
    """How colour is carried from frame to frame; ``keyframe_every`` 1 and ``carry`` 0 is
    frame-by-frame colorization."""

    keyframe_every: int = 4  # the network sees every n-th frame (and every hard-to-follow one)
    carry: float = 0.8  # on a keyframe, the share of the carried colour where the flow is sure
    tolerance: float = 6.0  # gray levels: how far warped lightness may be off and still be "sure"
    refresh_below: float = 0.85  # a frame with less of it explained is a keyframe
    cut_below: float = 0.35  # a frame with less of it explained starts a new shot


FRAME_BY_FRAME = SteadyParams(keyframe_every=1, carry=0.0)
Predict = Callable[[np.ndarray, tuple[Hint, ...]], np.ndarray]  # (small gray, hints) -> ab


@dataclass
class SteadyState:
    """What is carried from one frame to the next (saved with each finished part of a film)."""

    gray: np.ndarray | None = None  # the last frame's lightness at the network's size, uint8
    ab: np.ndarray | None = None  # its colour, float32 h x w x 2
    since_keyframe: int = 0
    shot: int = 0  # how many cuts so far
    hints: tuple[Hint, ...] = ()  # the hints where they are now (they follow the motion)
    slots: tuple[int, ...] = ()  # which of the plan's hints each is (-1: given without a plan)
    frame: int = 0  # the index of the next frame


class SteadyColour:
    """Gives each frame's colour in turn: ``colour(gray_small, predict)``."""

    def __init__(self, params: SteadyParams = SteadyParams(), state: SteadyState | None = None,
                 plan: HintPlan | None = None):  # fmt: skip
        self.params = params
        self.state = state or SteadyState()
        self.plan = plan
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self.cuts = 0  # cuts seen by this object (the tests and the log use it)
        self.keyframes = 0

    def colour(self, gray: np.ndarray, predict: Predict) -> np.ndarray:
        """(a, b) for the frame whose lightness at the network's size is ``gray`` (uint8).

        ``predict(gray, hints)`` is the network's colour for it, called only on keyframes, with
        the hints (if any) moved along with the picture; after a cut the hints are dropped
        (they belong to the shot they were placed in), and the plan's hints for the new shot
        start on the frames it says.
        """
        state, params = self.state, self.params
        carried = confidence = None
        if len(state.slots) != len(state.hints):
            state.slots = (-1,) * len(state.hints)
        if state.gray is not None and state.gray.shape == gray.shape and params.carry > 0:
            flow = self._flow.calc(gray, state.gray, None)  # from this frame back to the last
            carried, confidence, explained = _carry(state, gray, flow, params.tolerance)
            if explained < params.cut_below:
                carried = None
                state.shot += 1
                state.hints, state.slots = (), ()
                self.cuts += 1
            else:
                kept = follow_points(_points(state.hints, flow.shape), flow)
                state.hints, state.slots = _moved(state.hints, state.slots, kept, flow.shape)
        started = self.plan is not None and self._place_planned(state)
        keyframe = (carried is None or started or state.since_keyframe + 1 >= params.keyframe_every
                    or float(confidence.mean()) < params.refresh_below)  # fmt: skip
        if keyframe:
            self.keyframes += 1
            predicted = predict(gray, state.hints)
            if carried is None:
                ab = predicted
            else:
                weight = (params.carry * confidence)[..., None]
                ab = predicted + weight * (carried - predicted)
            state.since_keyframe = 0
        else:
            ab = carried
            state.since_keyframe += 1
        state.gray, state.ab = gray, np.ascontiguousarray(ab, dtype=np.float32)
        state.frame += 1
        return state.ab

    def _place_planned(self, state: SteadyState) -> bool:
        """Put the plan's hints for this frame in place: those that start here, and those placed
        on it exactly where they were placed. True when a hint started (a keyframe is due)."""
        placed = dict(zip(state.slots, state.hints))
        starting = self.plan.starting(state.frame)
        for slot, hint in (*starting, *self.plan.anchored(state.frame)):
            placed[slot] = hint
        state.slots, state.hints = tuple(placed), tuple(placed.values())
        return bool(starting)


def cut_between(last: np.ndarray, gray: np.ndarray, flow: np.ndarray, params: SteadyParams) -> bool:
    """Whether SteadyColour starts a new shot at ``gray`` after ``last`` (``flow`` from ``gray``
    back to ``last``): the same rule, for a pass that only needs the cuts (shot_hints)."""
    return _warp(last, gray, flow, params.tolerance)[3] < params.cut_below


def _carry(state: SteadyState, gray: np.ndarray, flow: np.ndarray, tolerance: float):
    """The last frame's colour warped onto this one, how sure each pixel is (0..1), and the share
    of the picture that the flow explains."""
    map_x, map_y, confidence, explained = _warp(state.gray, gray, flow, tolerance)
    carried = cv2.remap(state.ab, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return carried, confidence, explained


def _warp(last: np.ndarray, gray: np.ndarray, flow: np.ndarray, tolerance: float):
    """Where each pixel of ``gray`` came from on ``last`` (x and y maps), how sure that is (0..1),
    and the share of the picture the flow explains."""
    height, width = gray.shape
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
    before = cv2.remap(last, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    error = cv2.absdiff(before, gray).astype(np.float32)
    inside = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
    confidence = np.exp(-0.5 * (error / tolerance) ** 2) * inside
    explained = float(np.mean((error <= 2 * tolerance) & inside))
    return map_x, map_y, confidence.astype(np.float32), explained


def follow_points(points: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Where ``points`` (N x 2, pixels x, y on the last frame) are on this frame; ``flow`` points
    from this frame back to the last (as SteadyColour computes it). A point carried out of the
    frame comes back as NaN."""
    if not len(points):
        return points
    height, width = flow.shape[:2]
    # Find where each point went by a few fixed-point steps of  new = old - flow(new).
    new = points
    for _ in range(3):
        cols = np.clip(new[:, 0], 0, width - 1).astype(np.intp)
        rows = np.clip(new[:, 1], 0, height - 1).astype(np.intp)
        new = points - flow[rows, cols]
    outside = (new[:, 0] < 0) | (new[:, 0] > width) | (new[:, 1] < 0) | (new[:, 1] > height)
    new[outside] = np.nan
    return new


def _points(hints: tuple[Hint, ...], shape) -> np.ndarray:
    height, width = shape[:2]
    return np.array([[h.x * width, h.y * height] for h in hints], np.float32).reshape(-1, 2)


def _moved(hints, slots, points: np.ndarray, shape) -> tuple[tuple[Hint, ...], tuple[int, ...]]:
    """The hints at their new ``points``; a hint carried out of the frame is dropped."""
    height, width = shape[:2]
    kept = [(slot, Hint(float(x) / width, float(y) / height, hint.color, hint.frame))
            for hint, slot, (x, y) in zip(hints, slots, points) if not np.isnan(x)]  # fmt: skip
    return tuple(h for _, h in kept), tuple(slot for slot, _ in kept)
