"""Looking for photos in what a person opened (core.finder and batch.Walk): the walk reports how
far it got, stops when asked, refuses an absurd tree, and one bad path never hides the others."""

from __future__ import annotations

import pytest
from photos import save_photo

from colorize_app.core.batch import Walk, plan_batch
from colorize_app.core.errors import Cancelled, ColorizeError
from colorize_app.core.finder import find
from colorize_app.core.provenance import RecordState
from colorize_app.core.vocabulary import Status


@pytest.fixture
def tree(tmp_path):
    """album/ with a photo, and three sub-folders of which two hold one photo each."""
    top = tmp_path / "album"
    save_photo(top / "a.jpg", mode="L")
    save_photo(top / "one" / "b.jpg", mode="L")
    save_photo(top / "two" / "c.jpg", mode="L")
    (top / "three").mkdir()
    return top


def test_the_walk_reports_folders_looked_in_and_photos_found(tree):
    reports = []
    items = plan_batch([tree], recursive=True, walk=Walk(on_progress=lambda *n: reports.append(n)))
    assert len(items) == 3
    assert len(reports) == 4  # the album and its three sub-folders
    assert reports[-1] == (4, 3)
    assert [f for f, _ in reports] == [1, 2, 3, 4]


def test_a_stopped_walk_raises_cancelled_and_looks_no_further(tree):
    reports = []
    walk = Walk(on_progress=lambda *n: reports.append(n), is_cancelled=lambda: len(reports) >= 2)
    with pytest.raises(Cancelled):
        plan_batch([tree], recursive=True, walk=walk)
    assert len(reports) == 2
    with pytest.raises(Cancelled):  # stopping is not a problem of one path: find stops too
        find([tree, tree / "a.jpg"], Walk(is_cancelled=lambda: True), recursive=True)


def test_more_photos_than_the_limit_below_one_folder_is_refused_with_a_sentence(tree):
    with pytest.raises(ColorizeError, match=r"more than 2 photos and films, so none of them"):
        plan_batch([tree], recursive=True, walk=Walk(max_photos=2))
    assert len(plan_batch([tree], recursive=True, walk=Walk(max_photos=3))) == 3


def test_find_plans_each_path_on_its_own_and_reads_the_records_of_saved_results(tree, tmp_path):
    save_photo(tree / "a_colorized.jpg")  # made before Colorize recorded how: no record
    found = find([tmp_path / "gone.jpg", tree / "one", tree, tree / "three"], Walk(max_photos=1),
                 recursive=True, suffix="_colorized")
    gone, one, album, three = found
    assert "does not exist" in gone.problem and not gone.items
    assert [i.source.name for i in one.items] == ["b.jpg"] and one.folder
    assert "more than 1 photos" in album.problem  # the folder alone; the others still open
    assert three.folder and not three.items and not three.problem
    again = find([tree], recursive=True)[0]
    saved = [i for i in again.items if i.status == Status.SKIPPED]
    assert [i.source.name for i in saved] == ["a.jpg"]
    assert again.records[saved[0].output][0] is RecordState.NONE
    walk = Walk()
    find([tree / "one", tree / "two"], walk, recursive=True)
    assert (walk.folders, walk.photos) == (2, 2)  # the counts add up over the paths
