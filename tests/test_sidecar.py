"""A photo's hints file: round trip, atomic writes, and broken files that are reported, never overwritten."""

import json
import os
import subprocess
import sys

import pytest

from colorize_app.core.hints import Hint
from colorize_app.core.sidecar import HintsFileError, read_hints, sidecar_path, write_hints

POINTS = [Hint(0.25, 0.4, "#b03a2e"), Hint(0.9, 0.1, "#2E86C1")]


def test_hints_round_trip_through_the_file_next_to_the_photo(tmp_path):
    photo = tmp_path / "grandma.jpg"
    written = write_hints(photo, POINTS)
    assert written == tmp_path / "grandma.jpg.colorize.json" == sidecar_path(photo)
    document = json.loads(written.read_text())
    assert document["format"] == "colorize-hints" and document["version"] == 1
    assert document["points"][0] == {"x": 0.25, "y": 0.4, "color": "#b03a2e"}
    assert read_hints(photo) == [Hint(0.25, 0.4, "#b03a2e"), Hint(0.9, 0.1, "#2e86c1")]


def test_a_photo_without_a_hints_file_has_no_hints_and_clearing_removes_the_file(tmp_path):
    photo = tmp_path / "a.png"
    assert read_hints(photo) == []
    write_hints(photo, POINTS)
    write_hints(photo, [])
    assert not sidecar_path(photo).exists() and read_hints(photo) == []


@pytest.mark.parametrize("content, reason", [
    (b"{not json", "cannot be read"),
    (b'{"format": "colorize-hints", "version": 7, "points": []}', "version 7"),
    (b'{"format": "something-else", "version": 1}', "not a Colorize hints file"),
    (b'{"format": "colorize-hints", "version": 1, "points": [{"x": 3, "y": 0, "color": "#000000"}]}', "damaged"),
    (b"[" * 200_000 + b"]" * 200_000, "cannot be read"),
])
def test_a_broken_or_future_hints_file_is_reported_by_name_and_left_untouched(tmp_path, content, reason):
    photo = tmp_path / "p.jpg"
    sidecar_path(photo).write_bytes(content)
    with pytest.raises(HintsFileError, match=reason) as caught:
        read_hints(photo)
    assert "p.jpg.colorize.json" in str(caught.value)
    assert sidecar_path(photo).read_bytes() == content


def test_a_write_killed_half_way_leaves_the_previous_hints_whole(tmp_path):
    photo = tmp_path / "p.jpg"
    write_hints(photo, POINTS)
    before = sidecar_path(photo).read_bytes()
    # A child process starts writing a new version and is killed inside the write.
    script = (
        "import os, sys\n"
        "from colorize_app.core import atomic\n"
        "from colorize_app.core.hints import Hint\n"
        "from colorize_app.core.sidecar import write_hints\n"
        "def die(fd):\n"
        "    os.kill(os.getpid(), 9)\n"
        "atomic.os.fsync = die\n"
        f"write_hints({str(photo)!r}, [Hint(0.5, 0.5, '#00ff00')] * 50)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env={**os.environ}, timeout=60)
    assert result.returncode == -9
    assert sidecar_path(photo).read_bytes() == before
    assert read_hints(photo) == [Hint(0.25, 0.4, "#b03a2e"), Hint(0.9, 0.1, "#2e86c1")]
