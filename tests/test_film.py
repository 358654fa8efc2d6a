"""Films from the command line and the film job: the sound and the film's timing kept, results
that appear whole or not at all, a stopped or killed run that resumes, and bad films explained."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction

import films
import numpy as np
import pytest

from colorize_app import cli
from colorize_app.core import film
from colorize_app.core.errors import Cancelled
from colorize_app.core.job import Job, JobOptions
from colorize_app.core.vocabulary import Status

pytest.importorskip("av")

OPTIONS = ["--render-size", "64"]


def run(capsys, *args):
    status = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def test_a_film_is_colorized_with_its_timing_rotation_pixel_aspect_and_sound_kept(tmp_path, tiny_weights, capsys):
    source = films.make_film(tmp_path / "home movie.mp4", films.frames(30), rotation=90,
                             sample_aspect=Fraction(4, 3))  # fmt: skip
    before = source.read_bytes()
    status, out, _ = run(capsys, source, "--weights", tiny_weights, *OPTIONS)
    assert status == 0, out
    result = tmp_path / "home movie_colorized.mp4"
    assert "Colorized 1" in out and result.is_file()
    assert source.read_bytes() == before  # the original is only read
    made = films.describe(result)
    assert made["streams"] == [("video", "h264"), ("audio", "aac")]
    assert (made["rotation"], made["sample_aspect"], made["size"]) == (90, Fraction(4, 3), (96, 64))
    assert films.video_times(result) == films.video_times(source)  # every frame, at its time
    assert films.packet_digest(result, "audio") == films.packet_digest(source, "audio")  # copied
    pictures = films.decoded(result)
    spread = np.ptp(np.stack(pictures).astype(int), axis=3)  # colour: channels that differ
    assert spread.mean() > 1
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no parts left


def test_avi_and_webm_come_out_as_matroska_with_their_sound_and_subtitles(tmp_path, tiny_weights, capsys):
    films.make_film(tmp_path / "reel.avi", films.frames(12), codec="mpeg4", audio="mp3")  # fmt: skip
    webm = films.make_film(tmp_path / "clip.mkv", films.frames(12), codec="libvpx-vp9",
                           audio="libopus", subtitles=True)  # fmt: skip
    webm = webm.rename(tmp_path / "clip.webm")
    status, out, _ = run(capsys, tmp_path, "--weights", tiny_weights, *OPTIONS)
    assert status == 0, out
    assert "Colorized 2" in out
    reel, clip = tmp_path / "reel_colorized.mkv", tmp_path / "clip_colorized.mkv"
    assert films.describe(reel)["streams"][1:] == films.describe(tmp_path / "reel.avi")["streams"][1:]
    assert films.describe(clip)["streams"][1:] == films.describe(webm)["streams"][1:]
    assert films.describe(clip)["streams"][0] == films.describe(reel)["streams"][0] == ("video", "h264")
    assert films.describe(clip)["streams"][2][0] == "subtitle"
    for kind in ("audio", "subtitle"):
        assert films.packet_digest(clip, kind) == films.packet_digest(webm, kind)
    assert len(films.decoded(reel)) == 12


def test_a_finished_film_is_skipped_and_photos_beside_it_are_colorized_too(tmp_path, tiny_weights, capsys):
    import cv2

    films.make_film(tmp_path / "a.mp4", films.frames(6))
    cv2.imwrite(str(tmp_path / "b.png"), films.scene(3))
    assert run(capsys, tmp_path, "--weights", tiny_weights, *OPTIONS)[0] == 0
    stamp = (tmp_path / "a_colorized.mp4").stat().st_mtime_ns
    status, out, _ = run(capsys, tmp_path, "--weights", tiny_weights, *OPTIONS)
    assert status == 0 and "Colorized 0, skipped 2" in out
    assert (tmp_path / "a_colorized.mp4").stat().st_mtime_ns == stamp


def test_films_in_sub_folders_are_said_to_be_left_alone(tmp_path, tiny_weights, capsys):
    # ~/Videos with the films in ~/Videos/2019: "nothing found", and no word of -r.
    (tmp_path / "2019").mkdir()
    films.make_film(tmp_path / "2019" / "reel.mp4", films.frames(4))
    status, _, err = run(capsys, tmp_path, "--weights", tiny_weights, *OPTIONS)
    assert status == 0
    assert "left 1 photo(s) or film(s) in sub-folders alone; -r includes them." in err


def _engine_predict(tiny_model):
    from colorize_app.core.pipeline import predict_chroma

    def predict(pixels, options, hints):
        return predict_chroma(pixels, tiny_model, render_size=options.render_size)

    return predict


def test_a_stopped_film_resumes_after_its_finished_parts(tmp_path, tiny_model, monkeypatch):
    monkeypatch.setattr(film, "PART_SECONDS", 0.4)  # 10 frames a part at 25 fps
    source = films.make_film(tmp_path / "long.mp4", films.frames(40))
    output = tmp_path / "long_colorized.mp4"
    job = Job(source, output, JobOptions(render_size=64, device="cpu"))
    predict = _engine_predict(tiny_model)
    seen = []

    def stop_in_the_third_part():
        seen.append(1)
        return len(seen) > 25

    with pytest.raises(Cancelled):
        film.run_film_job(job, predict, is_cancelled=stop_in_the_third_part)
    assert not output.exists()  # nothing under the final name until the film is whole
    parts = film.parts_folder(output)
    assert sorted(p.name for p in parts.glob("part-*.nut")) == ["part-000000.nut", "part-000001.nut"]
    fractions = []
    result = film.run_film_job(job, predict, on_progress=fractions.append)
    assert result.status == Status.DONE, result.reason
    assert fractions[0] > 0.45  # it started after the 20 finished frames, not from the start
    assert films.video_times(output) == films.video_times(source)
    assert films.packet_digest(output, "audio") == films.packet_digest(source, "audio")
    assert not parts.exists()


def test_a_stopped_film_run_again_with_another_model_starts_afresh(tmp_path, tiny_model, monkeypatch):
    # Its finished parts were made by the first model: joined to the second's, the film would
    # change colour mid-way and its record would name the second model alone.
    monkeypatch.setattr(film, "PART_SECONDS", 0.4)
    source = films.make_film(tmp_path / "long.mp4", films.frames(40))
    output = tmp_path / "long_colorized.mp4"
    predict = _engine_predict(tiny_model)
    first = Job(source, output, JobOptions(render_size=64, device="cpu", model_sha256="a" * 64))
    seen = []
    with pytest.raises(Cancelled):
        film.run_film_job(first, predict, is_cancelled=lambda: seen.append(1) or len(seen) > 25)
    fractions = []
    second = Job(source, output, JobOptions(render_size=64, device="cpu", model_sha256="b" * 64))
    result = film.run_film_job(second, predict, on_progress=fractions.append)
    assert result.status == Status.DONE, result.reason
    assert fractions[0] < 0.1  # from the first frame, not after the first model's 20


def _no_colour(gray, options, hints):
    return np.zeros(gray.shape + (2,), np.float32)


def test_a_long_film_is_joined_however_many_parts_it_has(tmp_path, monkeypatch):
    # A feature film is hundreds of parts: the join opened them all at once and, past the
    # open-files limit, failed "Too many open files" on every run, its parts kept forever.
    resource = pytest.importorskip("resource")
    monkeypatch.setattr(film, "PART_SECONDS", 0.04)  # a part a frame at 25 fps: 60 parts
    source = films.make_film(tmp_path / "feature.mp4", films.frames(60, step=1))
    output = tmp_path / "feature_colorized.mp4"
    job = Job(source, output, JobOptions(render_size=64, device="cpu"))
    descriptors = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir(descriptors)) + 30, hard))
    try:
        result = film.run_film_job(job, _no_colour)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert result.status == Status.DONE, result.reason
    assert films.video_times(output) == films.video_times(source)
    assert films.packet_digest(output, "audio") == films.packet_digest(source, "audio")


def test_a_join_that_fails_names_the_film_not_its_hidden_temporary_file(tmp_path, monkeypatch):
    monkeypatch.setattr(film, "PART_SECONDS", 0.4)  # 10 frames a part at 25 fps
    source = films.make_film(tmp_path / "reel.mp4", films.frames(20))
    output = tmp_path / "reel_colorized.mp4"
    job = Job(source, output, JobOptions(render_size=64, device="cpu"))
    seen = []
    with pytest.raises(Cancelled):
        film.run_film_job(job, _no_colour, is_cancelled=lambda: seen.append(1) or len(seen) > 15)
    (film.parts_folder(output) / "part-000000.nut").write_bytes(b"damaged" * 100)
    result = film.run_film_job(job, _no_colour)
    assert result.status == Status.FAILED
    assert result.reason.startswith("Cannot join the colorized film reel_colorized.mp4: ")
    assert "colorize-tmp" not in result.reason



def test_a_films_record_names_its_original_as_a_photos_does(tmp_path):
    # A film named by an old camera or scanner in Latin-1 (not UTF-8): its record kept the name's
    # undecodable byte as a lone surrogate, where a photo's record writes it as \xNN.
    from colorize_app.core.provenance import RecordState, read_provenance

    name = os.fsdecode(b"r\xe9el\n1.mp4")
    source = films.make_film(tmp_path / name, films.frames(3), audio=None)
    output = tmp_path / os.fsdecode(b"r\xe9el\n1_colorized.mp4")
    result = film.run_film_job(Job(source, output, JobOptions(render_size=64)), _no_colour)
    assert result.status == Status.DONE, result.reason
    state, record = read_provenance(output)
    assert state is RecordState.FOUND and record.original_name == "r\\xe9el\\x0a1.mp4"


def test_a_film_stopped_or_failed_in_its_first_part_leaves_no_hidden_folder(tmp_path):
    # Nothing was finished, so nothing is kept for a next run: the folder held only its lock
    # and fingerprint, and stayed beside the film for good.
    source = films.make_film(tmp_path / "clip.mp4", films.frames(12), audio=None)
    seen = []
    with pytest.raises(Cancelled):
        film.run_film_job(Job(source, tmp_path / "clip_colorized.mp4", JobOptions(render_size=64)),
                          _no_colour, is_cancelled=lambda: seen.append(1) or len(seen) > 5)  # fmt: skip

    def crashes(gray, options, hints):
        raise RuntimeError("the model crashed")

    failed = film.run_film_job(Job(source, tmp_path / "again_colorized.mp4", JobOptions(render_size=64)),
                               crashes)  # fmt: skip
    assert failed.status == Status.FAILED and "the model crashed" in failed.reason
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]



@pytest.mark.parametrize(("suffix", "subtitles"), [(".mp4", False), (".mkv", True)])
def test_a_colorized_film_keeps_its_title_date_chapters_and_each_streams_language(tmp_path, suffix,
                                                                                 subtitles):  # fmt: skip
    plain = films.make_film(tmp_path / f"plain{suffix}", films.frames(10), subtitles=subtitles)
    source = films.retagged(
        plain, tmp_path / f"farm{suffix}",
        {"title": "Grandpa's farm", "creation_time": "2001-07-04T12:00:00.000000Z",
         "location": "+48.8584+002.2945/",  # where it was filmed, as a photo's EXIF GPS
         "colorize_provenance": "the record of the film this one was made from"},
        {"video": {"language": "fra"}, "audio": {"language": "fra", "title": "Commentary"},
         "subtitle": {"language": "fra", "title": "Dialogue"}},
        {"audio": "default|original", "subtitle": "forced"}, [(0.0, 0.2, "Arrival"), (0.2, 0.4, "Barn")],
    )  # fmt: skip
    output = tmp_path / f"farm_colorized{suffix}"
    result = film.run_film_job(Job(source, output, JobOptions(render_size=64)), _no_colour)
    assert result.status == Status.DONE, result.reason
    before, after = films.tags_of(source), films.tags_of(output)

    def film_tags(tags):  # (Matroska reads its own tags back in capitals)
        return {key.lower(): value for key, value in tags.items()
                if key.lower() in ("title", "creation_time", "location")}  # fmt: skip

    def stream_tags(streams):  # MP4 reads a track's title back as its "name"
        return [(kind, tags.get("language"), tags.get("title") or tags.get("name"), disposition)
                for kind, tags, disposition in streams]  # fmt: skip

    assert film_tags(after["tags"]) == film_tags(before["tags"]) == {
        "title": "Grandpa's farm", "creation_time": "2001-07-04T12:00:00.000000Z",
        "location": "+48.8584+002.2945/"}  # fmt: skip
    records = [value for key, value in after["tags"].items() if key.lower() == "colorize_provenance"]
    assert len(records) == 1 and "RecordVersion" in records[0]  # its own record, not the source's
    assert stream_tags(after["streams"]) == stream_tags(before["streams"])
    kept = stream_tags(after["streams"])
    if subtitles:  # Matroska holds every disposition; MP4 says "default" alone
        assert kept[1:] == [("audio", "fra", "Commentary", "default|original"),
                            ("subtitle", "fra", "Dialogue", "forced")]  # fmt: skip
    else:  # (and holds the chapters in a track of its own)
        assert kept[1:] == [("audio", "fra", "Commentary", "default"), ("data", "eng", None, None)]
    assert kept[0][:2] == ("video", "fra")
    assert after["chapters"] == before["chapters"] == [(0.0, "Arrival"), (0.2, "Barn")]


KILLER = """
import os, signal, sys
from colorize_app import cli
from colorize_app.core import engine, film
film.PART_SECONDS = 0.4
real = engine.Engine.predict
calls = [0]
def predict(self, pixels, options, hints=()):
    calls[0] += 1
    if calls[0] == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)  # as a power cut or `kill -9` would
    return real(self, pixels, options, hints)
engine.Engine.predict = predict
sys.exit(cli.main([sys.argv[1], "--weights", sys.argv[3], "--render-size", "64"]))
"""


def test_a_killed_run_resumes_and_the_joined_film_keeps_every_frame_and_its_sound(tmp_path, tiny_weights):
    source = films.make_film(tmp_path / "reel.mkv", films.frames(50), subtitles=True)
    output = tmp_path / "reel_colorized.mkv"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    # keyframes every 4 frames (or more often): the 9th prediction is in the third part or later
    killed = subprocess.run([sys.executable, "-c", KILLER, source, "9", tiny_weights], env=env,
                            capture_output=True, timeout=300)  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    assert not output.exists()
    finished = sorted(p.name for p in film.parts_folder(output).glob("part-*.nut"))
    assert 2 <= len(finished) < 5
    assert finished == [f"part-{i:06d}.nut" for i in range(len(finished))]
    again = subprocess.run([sys.executable, "-c", KILLER, source, "0", tiny_weights], env=env,
                           capture_output=True, timeout=300)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert films.video_times(output) == films.video_times(source)  # in sync: the same times
    for kind in ("audio", "subtitle"):
        assert films.packet_digest(output, kind) == films.packet_digest(source, kind)
    assert not film.parts_folder(output).exists()


def test_variable_frame_rate_keeps_each_frames_own_time(tmp_path, tiny_weights, capsys):
    times = [0, 40, 80, 200, 240, 400, 410, 420, 700, 740]  # milliseconds
    source = films.make_film(tmp_path / "vfr.mkv", films.frames(10), times=times,
                             time_base=Fraction(1, 1000), audio=None)  # fmt: skip
    assert run(capsys, source, "--weights", tiny_weights, *OPTIONS)[0] == 0
    assert films.video_times(tmp_path / "vfr_colorized.mkv") == [t / 1000 for t in times]


def test_odd_sizes_and_10_bit_films_are_colorized_with_a_note(tmp_path, tiny_weights, capsys):
    odd = [f[:63, :95] for f in films.frames(6)]
    films.make_film(tmp_path / "odd.mkv", odd, codec="ffv1", pix_fmt="gray", audio=None)
    films.make_film(tmp_path / "deep.mkv", films.frames(6), codec="ffv1", pix_fmt="yuv420p10le",
                    audio=None)  # fmt: skip
    status, out, _ = run(capsys, tmp_path, "--weights", tiny_weights, *OPTIONS)
    assert status == 0, out
    assert "95 x 63; H.264 needs even sizes, so the colorized film is 94 x 62" in out
    assert "deep.mkv is 10-bit video; the colorized film is 8-bit H.264" in out
    assert films.describe(tmp_path / "odd_colorized.mkv")["size"] == (94, 62)


def test_bad_films_fail_with_a_sentence_and_leave_nothing_behind(tmp_path, tiny_weights, capsys):
    import av

    with av.open(str(tmp_path / "sound only.mp4"), "w") as out:  # a film with no pictures
        films._write_sine(out, out.add_stream("aac", rate=48000), 0.5)
    (tmp_path / "garbage.mov").write_bytes(b"not a film at all" * 100)
    whole = films.make_film(tmp_path / "whole.mp4", films.frames(8)).read_bytes()
    (tmp_path / "cut short.mp4").write_bytes(whole[: len(whole) // 2])  # no index: unreadable
    status, out, err = run(capsys, tmp_path, "--weights", tiny_weights, *OPTIONS)
    assert status == 1
    assert "sound only.mp4 has no video stream" in out
    assert "garbage.mov cannot be read as a film" in out
    assert "cut short.mp4 cannot be read as a film" in out
    assert "Traceback" not in out + err
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["cut short.mp4", "garbage.mov", "sound only.mp4", "whole.mp4", "whole_colorized.mp4"]


def test_a_truncated_stream_is_colorized_as_far_as_it_goes_with_a_note(tmp_path, tiny_weights, capsys):
    whole = films.make_film(tmp_path / "whole.mkv", films.frames(40), audio=None).read_bytes()
    (tmp_path / "torn.mkv").write_bytes(whole[: len(whole) * 2 // 3])
    status, out, _ = run(capsys, tmp_path / "torn.mkv", "--weights", tiny_weights, *OPTIONS)
    assert status == 0, out
    assert "torn.mkv ends early (damaged or truncated?)" in out
    assert 10 < len(films.decoded(tmp_path / "torn_colorized.mkv")) < 40


@pytest.mark.parametrize("suffix", [".mkv", ".webm"])
def test_a_whole_film_whose_sound_outlasts_its_picture_is_not_called_damaged(tmp_path, tiny_weights,
                                                                           capsys, suffix):
    # Matroska gives no length per stream but the DURATION tag; the whole file's length (the
    # sound's) made 40 frames look like 50, and a whole film was reported "ends early".
    codec, audio = ("libvpx-vp9", "libopus") if suffix == ".webm" else ("libx264", "aac")
    reel = films.make_film(tmp_path / f"reel{suffix}", films.frames(40), codec=codec, audio=audio,
                           sound_seconds=2.0)  # fmt: skip
    status, out, _ = run(capsys, reel, "--weights", tiny_weights, *OPTIONS)
    assert status == 0 and "Colorized 1" in out
    assert "ends early" not in out



def _whole_film_with_a_miscount(folder, kind):
    if kind == "capture.avi":  # a capture card's dropped frames: the AVI header counts them
        kept = [i for i in range(30) if i not in (10, 20, 21)]
        pictures = films.frames(30)
        return films.make_film(folder / kind, [pictures[i] for i in kept], codec="mpeg4", audio=None,
                               times=kept, time_base=Fraction(1, 25))  # fmt: skip
    if kind == "clip.mp4":  # cut mid-GOP: its first packets cannot be decoded, but MP4 counts them
        whole = films.make_film(folder / "whole.mp4", films.frames(40), keyframes=12)
        return films.cut(whole, folder / kind, packets=5)
    # a phone's "Trim": an edit list starts it 15 frames into its media, which MOV still counts
    phone = films.make_film(folder / "phone.mov", films.frames(40))
    return films.cut(phone, folder / kind, seconds=0.6)


@pytest.mark.parametrize("kind", ["capture.avi", "clip.mp4", "trimmed.mov"])
def test_a_whole_film_is_not_called_damaged_and_its_slider_frame_k_is_coloured_k(tmp_path, kind):
    # The slider and the "ends early" check trusted the header's count; colouring (and a hint's
    # frame) counts the frames decoded: hints landed on other frames, whole films were "damaged".
    from colorize_app.core import film_io

    source = _whole_film_with_a_miscount(tmp_path, kind)
    output = tmp_path / "colorized.mkv"
    result = film.run_film_job(Job(source, output, JobOptions(render_size=64)), _no_colour)
    assert result.status == Status.DONE, result.reason
    assert "ends early" not in result.note
    coloured = [gray for _pts, gray in film_io.read_frames(source)]  # the colouring pass's frames
    assert len(films.decoded(output)) == len(coloured)
    slider = film_io.frame_times(source)
    assert len(slider) == len(coloured)
    for k in (0, len(coloured) // 2, len(coloured) - 1):  # what the slider shows as frame k
        shown = film_io.picture_at(source, slider[k])[0][:, :, 0].astype(int)
        assert np.abs(shown - coloured[k]).mean() < 3


@pytest.fixture(scope="module")
def hint_weights(hint_model, tmp_path_factory):
    from colorize_app.core.weights import save_weights

    path = tmp_path_factory.mktemp("hint-weights") / "hint.safetensors"
    return save_weights(path, hint_model, metadata={"note": "tiny hint network for tests"})


def test_a_films_hints_file_follows_the_shot_and_ends_with_it(tmp_path, hint_weights, capsys):
    from colorize_app.core.colour import rgb_to_lab
    from colorize_app.core.hints import Hint
    from colorize_app.core.sidecar import write_hints

    # On a mid-gray blob of the first frame (black has no colour to give); the camera pans 2
    # pixels a frame, so 29 frames later the blob is 58 pixels to the left, then a cut.
    start, y = 68, 22
    red = Hint(start / films.WIDTH, y / films.HEIGHT, "#c0392b")
    source = films.make_film(tmp_path / "pan.mp4", films.frames(34, cut_at=30, step=2))
    write_hints(source, [red])  # pan.mp4.colorize.json, as the window saves it
    status, out, _ = run(capsys, source, "--weights", hint_weights, "--render-size", 96)
    assert status == 0 and "1 of them with colour hints." in out
    pictures = films.decoded(tmp_path / "pan_colorized.mp4")

    def redness(picture, x):
        ab = rgb_to_lab(picture[y - 3 : y + 3, x - 3 : x + 3]).reshape(-1, 3)[:, 1:].mean(0)
        return -float(np.linalg.norm(ab - np.asarray(red.ab)))

    followed = start - 2 * 29
    assert redness(pictures[29], followed) > -10  # the hinted thing is still red (2.9 away)
    # ... and the place where the hint was is not (hints left in place: 29 and 35 away)
    assert redness(pictures[29], followed) > redness(pictures[29], start) + 20
    assert redness(pictures[32], followed) < redness(pictures[29], followed) - 20  # the next shot


def test_the_windows_frames_come_upright_at_the_time_asked_and_the_poster_is_a_tenth_in(tmp_path):
    from colorize_app.core import film_io

    pictures = films.frames(30, step=3)
    turned = films.make_film(tmp_path / "phone.mp4", pictures, rotation=90, audio=None)
    rgb, length, rate = film_io.picture_at(turned, 0.0)
    assert rgb.shape == (96, 64, 3) and length == pytest.approx(1.2) and rate == 25  # upright

    plain = films.make_film(tmp_path / "reel.mkv", pictures, audio=None, rate=Fraction(10))
    for seconds, index in ((0.0, 0), (1.2, 12), (2.0, 20), (99.0, 29)):  # past the end: the last
        gray = film_io.picture_at(plain, seconds)[0][:, :, 0].astype(np.float32)
        errors = [np.abs(gray - p).mean() for p in pictures]
        assert int(np.argmin(errors)) == index
    poster = film_io.poster(plain)[:, :, 0].astype(np.float32)  # 3 s long: the frame at 0.3 s
    assert int(np.argmin([np.abs(poster - p).mean() for p in pictures])) == 3
