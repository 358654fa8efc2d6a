"""Steady colour for films: colour that follows the motion instead of being guessed anew each frame.

Colorizing each frame on its own flickers: the network's guess for a coat or a wall moves a little
from one frame to the next. Here the network sees only *keyframes* (every few frames, and
whenever much of the picture cannot be followed); in between, the last frame's colour is carried
onto the new one along the optical flow (OpenCV's DIS, on the lightness at the network's size).
On a keyframe the carried colour and the network's new prediction are blended, per pixel, by how
well the flow explains the new frame there: where the warped lightness matches, mostly the carried
colour; where it does not (something appeared, moved fast or was uncovered), the new prediction.
A scene cut (most of the picture unexplained) starts afresh from the new frame's prediction.

Everything works at the network's size (256 pixels on the long side by default), so it costs a
few milliseconds a frame whatever the film's resolution. The design and its numbers were chosen
by benchmarks/video_eval.py (the metrics' (a, b) warp error and per-frame quality).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from .hints import Hint


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


class SteadyColour:
    """Gives each frame's colour in turn: ``colour(gray_small, predict)``."""

    def __init__(self, params: SteadyParams = SteadyParams(), state: SteadyState | None = None):
        self.params = params
        self.state = state or SteadyState()
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self.cuts = 0  # cuts seen by this object (the tests and the log use it)
        self.keyframes = 0

    def colour(self, gray: np.ndarray, predict: Predict) -> np.ndarray:
        """(a, b) for the frame whose lightness at the network's size is ``gray`` (uint8).

        ``predict(gray, hints)`` is the network's colour for it, called only on keyframes, with
        the hints (if any) moved along with the picture; after a cut the hints are dropped
        (they belong to the shot they were placed in).
        """
        state, params = self.state, self.params
        carried = confidence = None
        if state.gray is not None and state.gray.shape == gray.shape and params.carry > 0:
            flow = self._flow.calc(gray, state.gray, None)  # from this frame back to the last
            carried, confidence, explained = _carry(state, gray, flow, params.tolerance)
            if explained < params.cut_below:
                carried = None
                state.shot += 1
                state.hints = ()
                self.cuts += 1
            else:
                state.hints = _follow(state.hints, flow)
        keyframe = (carried is None or state.since_keyframe + 1 >= params.keyframe_every
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
        return state.ab


def _carry(state: SteadyState, gray: np.ndarray, flow: np.ndarray, tolerance: float):
    """The last frame's colour warped onto this one, how sure each pixel is (0..1), and the share
    of the picture that the flow explains."""
    height, width = gray.shape
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
    carried = cv2.remap(state.ab, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    before = cv2.remap(state.gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    error = cv2.absdiff(before, gray).astype(np.float32)
    inside = (map_x >= 0) & (map_x <= width - 1) & (map_y >= 0) & (map_y <= height - 1)
    confidence = np.exp(-0.5 * (error / tolerance) ** 2) * inside
    explained = float(np.mean((error <= 2 * tolerance) & inside))
    return carried, confidence.astype(np.float32), explained


def _follow(hints: tuple[Hint, ...], flow: np.ndarray) -> tuple[Hint, ...]:
    """The hints moved with the picture; a hint carried out of the frame is dropped."""
    if not hints:
        return hints
    height, width = flow.shape[:2]
    moved = []
    for hint in hints:
        # The flow points from this frame back to the last: find where the point went by a few
        # fixed-point steps of  new = old - flow(new).
        old = np.array([hint.x * width, hint.y * height], np.float32)
        new = old.copy()
        for _ in range(3):
            col = int(np.clip(new[0], 0, width - 1))
            row = int(np.clip(new[1], 0, height - 1))
            new = old - flow[row, col]
        x, y = float(new[0]) / width, float(new[1]) / height
        if 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0:
            moved.append(Hint(x, y, hint.color))
    return tuple(moved)
