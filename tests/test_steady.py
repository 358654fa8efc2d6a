"""Steady colour: colour carried along the motion, a fresh start at a cut, hints that follow the shot."""

from __future__ import annotations

import films
import numpy as np

from colorize_app.core.hints import Hint
from colorize_app.core.steady import FRAME_BY_FRAME, SteadyColour, SteadyParams

RED, BLUE = (40.0, 20.0), (-10.0, -40.0)


class Network:
    """Stands in for the network: one colour everywhere, changed at will; records its calls."""

    def __init__(self) -> None:
        self.colour = RED
        self.calls: list[tuple[Hint, ...]] = []

    def __call__(self, gray: np.ndarray, hints) -> np.ndarray:
        self.calls.append(tuple(hints))
        return np.broadcast_to(np.float32(self.colour), (*gray.shape, 2)).copy()


def test_colour_is_carried_between_keyframes_and_only_blended_toward_a_new_guess():
    network, steady = Network(), SteadyColour(SteadyParams(keyframe_every=4, carry=0.8))
    pictures = films.frames(9)
    for gray in pictures[:4]:
        steady.colour(gray, network)
    assert len(network.calls) == 1  # frames 1-3 were carried, not guessed
    network.colour = BLUE  # the network changes its mind about the same, steady scene
    ab = steady.colour(pictures[4], network)
    assert len(network.calls) == 2
    middle = ab[10:-10, 10:-10]  # away from the edge that the pan uncovers
    assert np.allclose(middle.mean(axis=(0, 1)), np.add(np.multiply(RED, 0.8), np.multiply(BLUE, 0.2)), atol=4)


def test_frame_by_frame_follows_every_guess():
    network, steady = Network(), SteadyColour(FRAME_BY_FRAME)
    pictures = films.frames(3)
    steady.colour(pictures[0], network)
    network.colour = BLUE
    assert np.allclose(steady.colour(pictures[1], network), BLUE)
    assert len(network.calls) == 2


def test_a_cut_starts_the_new_shot_from_its_own_colour():
    network, steady = Network(), SteadyColour(SteadyParams(keyframe_every=100, carry=1.0))
    pictures = films.frames(12, cut_at=6)
    for gray in pictures[:6]:
        steady.colour(gray, network)
    network.colour = BLUE
    after = steady.colour(pictures[6], network)
    assert steady.cuts == 1
    assert np.allclose(after, BLUE)  # nothing of the last shot's red comes along
    assert len(network.calls) == 2


def test_without_a_cut_the_same_carry_keeps_the_colour():
    network, steady = Network(), SteadyColour(SteadyParams(keyframe_every=100, carry=1.0))
    pictures = films.frames(12)
    for gray in pictures[:6]:
        steady.colour(gray, network)
    network.colour = BLUE
    ab = steady.colour(pictures[6], network)
    assert steady.cuts == 0
    assert np.allclose(ab[10:-10, 10:-10].mean(axis=(0, 1)), RED, atol=2)


def test_hints_follow_the_motion_through_the_shot_and_end_with_it():
    network = Network()
    steady = SteadyColour(SteadyParams(keyframe_every=1, carry=0.8))
    steady.state.hints = (Hint(0.5, 0.5, "#b03a2e"),)
    pictures = films.frames(12, cut_at=8, step=3)  # the picture moves 3 pixels left a frame
    width = pictures[0].shape[1]
    for gray in pictures:
        steady.colour(gray, network)
    xs = [calls[0].x * width for calls in network.calls[:8]]
    assert np.allclose(np.diff(xs), -3, atol=0.75)  # the point stays on the same thing
    assert all(call[0].color == "#b03a2e" for call in network.calls[:8])
    assert network.calls[8:] == [()] * 4  # after the cut: a new shot, the hints were its own
