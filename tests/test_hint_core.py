"""The pieces behind the window's hint mode that need no window: suggestions and quick re-runs."""

from __future__ import annotations

import numpy as np
from photos import save_photo

from colorize_app.core.colour import rgb_to_lab
from colorize_app.core.hint_colours import suggest_colours
from colorize_app.core.hint_preview import HintPreview
from colorize_app.core.hints import Hint
from colorize_app.core.imageio import read_image
from colorize_app.core.pipeline import predict_chroma


def _lightness(colour: str) -> float:
    rgb = np.array([[[int(colour[i:i + 2], 16) for i in (1, 3, 5)]]], np.uint8)
    return float(rgb_to_lab(rgb)[0, 0, 0])


def test_suggestions_start_with_the_current_colour_and_keep_the_spots_lightness():
    gray = 120
    spot_l = _lightness("#787878")
    colours = suggest_colours(gray, current_rgb=(150, 90, 60), count=6)
    assert len(colours) == 6 and len(set(colours)) == 6
    assert abs(_lightness(colours[0]) - spot_l) < 2
    current = rgb_to_lab(np.array([[[150, 90, 60]]], np.uint8))[0, 0, 1:]
    first = rgb_to_lab(np.array([[[int(colours[0][i:i + 2], 16) for i in (1, 3, 5)]]], np.uint8))[0, 0, 1:]
    assert np.linalg.norm(first - current) < 8  # the model's colour, at that lightness
    assert all(abs(_lightness(c) - spot_l) < 2 for c in colours)


def test_a_gray_current_colour_is_not_offered_and_white_spots_get_few_colours():
    colours = suggest_colours(128, current_rgb=(128, 128, 128))
    assert "#808080" not in colours and colours
    assert len(suggest_colours(255)) < len(colours)  # at white almost nothing has chroma


def test_the_quick_re_run_matches_the_pipeline_and_decodes_the_photo_once(tmp_path, tiny_model,
                                                                         monkeypatch):
    photo = save_photo(tmp_path / "p.png", size=(300, 400))
    from colorize_app.core import hint_preview
    from colorize_app.core.job import Job, JobOptions

    reads = []
    real_read = hint_preview.read_image
    monkeypatch.setattr(hint_preview, "read_image", lambda *a, **k: reads.append(a) or real_read(*a, **k))
    preview = HintPreview(lambda pixels, options, hints: predict_chroma(
        pixels, tiny_model, render_size=options.render_size, hints=list(hints) or None))
    options = JobOptions(render_size=64)
    first = preview.chroma(Job(photo, options=options, hints=(Hint(0.5, 0.5, "#c0392b"),)))
    preview.chroma(Job(photo, options=options, hints=()))
    assert len(reads) == 1
    full = predict_chroma(read_image(photo).pixels, tiny_model, render_size=64)
    assert np.array_equal(preview.chroma(Job(photo, options=options, hints=())), full)
    assert first.shape == full.shape
