"""The colour table kept between runs: read back when today's maths made it, rebuilt otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from colorize_app.core import chroma, table_cache


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A process that has built no table yet, with a cache folder of its own; counts the chunks
    of the table it computes."""
    monkeypatch.setenv("COLORIZE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(chroma, "_tables", {})
    computed = []
    rows = chroma._table_rows

    def counting(channels, first):
        computed.append(first)
        return rows(channels, first)

    monkeypatch.setattr(chroma, "_table_rows", counting)
    return computed


def test_a_second_run_reads_the_table_instead_of_building_it(fresh, monkeypatch):
    built = chroma.srgb_table(1).copy()
    assert len(fresh) == 256 // chroma.TABLE_CHUNK and table_cache.path_for(1).is_file()
    monkeypatch.setattr(chroma, "_tables", {})  # the next run
    fresh.clear()
    np.testing.assert_array_equal(chroma.srgb_table(1), built)
    assert len(fresh) == 1  # only the slice that checks the saved table against today's maths


def test_a_table_made_by_other_colour_maths_is_rebuilt_not_used(fresh, monkeypatch):
    built = chroma.srgb_table(3).copy()
    saved = table_cache.load(3)
    saved[128, 10, 20, 0] ^= 1  # one colour near a = b = 0 differs: another OpenCV, say
    table_cache.store(3, saved)
    monkeypatch.setattr(chroma, "_tables", {})
    fresh.clear()
    np.testing.assert_array_equal(chroma.srgb_table(3), built)
    assert len(fresh) == 256 // chroma.TABLE_CHUNK
    np.testing.assert_array_equal(table_cache.load(3).reshape(-1, 4).view(np.uint32).reshape(-1), built)


@pytest.mark.parametrize("damage", [b"", b"not a numpy file", b"\x93NUMPY\x01\x00truncated"])
def test_a_damaged_saved_table_is_rebuilt_and_replaced(fresh, damage):
    path = table_cache.path_for(1)
    path.parent.mkdir(parents=True)
    path.write_bytes(damage)
    table = chroma.srgb_table(1)
    assert table.size == 256**3
    assert table_cache.load(1) is not None


def test_a_cache_folder_that_cannot_be_written_costs_nothing_but_time(fresh, tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_bytes(b"")
    monkeypatch.setenv("COLORIZE_CACHE_DIR", str(blocker / "cache"))  # a folder inside a file
    assert chroma.srgb_table(1).size == 256**3
    assert table_cache.load(1) is None


def test_no_home_folder_to_cache_in_costs_nothing_but_time(fresh, monkeypatch):
    from pathlib import Path

    def homeless():
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("COLORIZE_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(homeless))
    assert chroma.srgb_table(1).size == 256**3
    assert table_cache.path_for(1) is None
