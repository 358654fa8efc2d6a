"""Small films made for the tests: a textured gray scene that pans (and may cut to another), with a
sound track and subtitles, in a chosen container; and readers that say what a film holds."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT = 96, 64


def scene(seed: int, width: int = 240, height: int = 160) -> np.ndarray:
    """A gray picture with blobs and edges that optical flow can follow, larger than a frame."""
    rng = np.random.default_rng(seed)
    image = np.zeros((height, width), np.float32)
    for _ in range(30):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(6, 20)
        yy, xx = np.ogrid[:height, :width]
        image[(xx - x) ** 2 + (yy - y) ** 2 < r * r] = rng.uniform(30, 230)
    import cv2

    image = cv2.GaussianBlur(image, (0, 0), 1.2)
    return np.clip(image, 0, 255).astype(np.uint8)


def frames(count: int, *, cut_at: int | None = None, width: int = WIDTH, height: int = HEIGHT,
           step: int = 2) -> list[np.ndarray]:  # fmt: skip
    """``count`` gray frames panning ``step`` pixels a frame across a scene; at ``cut_at`` a cut
    to another scene."""
    out = []
    for index in range(count):
        second = cut_at is not None and index >= cut_at
        picture = scene(2 if second else 1, width + step * count + 2, height + 10)
        x = step * (index - (cut_at if second else 0))
        out.append(np.ascontiguousarray(picture[5 : 5 + height, x : x + width]))
    return out


def make_film(path: Path, pictures: list[np.ndarray], *, rate: Fraction = Fraction(25),
              codec: str = "libx264", pix_fmt: str = "yuv420p", audio: str | None = "aac",
              subtitles: bool = False, rotation: int = 0, sample_aspect: Fraction | None = None,
              times: list[int] | None = None, time_base: Fraction | None = None,
              sound_seconds: float | None = None, keyframes: int | None = None) -> Path:  # fmt: skip
    """Write ``pictures`` (gray) as a film at ``path`` with a sine sound track (``audio`` codec;
    as long as the pictures unless ``sound_seconds``) and, optionally, a subtitle; ``times`` in
    ``time_base`` makes a variable frame rate; ``keyframes``: one every that many frames."""
    height, width = pictures[0].shape
    with av.open(str(path), "w") as out:
        options = {"g": str(keyframes)} if keyframes else None
        video = out.add_stream(codec, rate=rate, options=options)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        if time_base is not None:
            video.time_base = time_base
            video.codec_context.time_base = time_base
        if rotation:
            video.set_display_rotation(rotation)
        if sample_aspect is not None:
            video.codec_context.sample_aspect_ratio = sample_aspect
        sound = None
        if audio:
            sound = out.add_stream(audio, rate=48000)
            sound.layout = "mono"
        subtitle_input = _subtitle_file(path) if subtitles else None
        subtitle = out.add_stream_from_template(subtitle_input.streams[0]) if subtitles else None
        base = time_base or 1 / rate
        for index, gray in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(np.dstack([gray] * 3), format="rgb24")
            frame = frame.reformat(format=pix_fmt)
            frame.pts = times[index] if times else index
            frame.time_base = base
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            _write_sine(out, sound, sound_seconds or float(len(pictures) / rate))
        if subtitle is not None:
            for packet in subtitle_input.demux(subtitle_input.streams[0]):
                if packet.size:
                    packet.stream = subtitle
                    out.mux(packet)
            subtitle_input.close()
    return path


def _write_sine(out, sound, seconds: float) -> None:
    samples = int(48000 * seconds)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 48000)).astype(np.float32)
    chunk = 1024
    for start in range(0, samples, chunk):
        piece = tone[start : start + chunk]
        fmt = sound.codec_context.format.name
        kind = fmt.rstrip("p")
        data = piece if kind == "flt" else (piece * (2 ** (31 if kind == "s32" else 15) - 1)).astype(
            np.int32 if kind == "s32" else np.int16)
        layout = data[None, :] if fmt.endswith("p") else data.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(layout), format=fmt, layout="mono")
        frame.sample_rate = 48000
        frame.pts = start
        out.mux(sound.encode(frame))
    out.mux(sound.encode(None))


def _subtitle_file(film: Path):
    """An open SubRip file with one line (its stream is copied into Matroska films)."""
    srt = film.with_suffix(".srt")
    srt.write_text("1\n00:00:00,200 --> 00:00:00,700\nA line of dialogue\n\n", encoding="utf-8")
    return av.open(str(srt))


def video_times(path: Path) -> list[float]:
    """Each frame's presentation time in seconds, in order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [round(float(frame.pts * stream.time_base), 4) for frame in container.decode(stream)]


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def packet_digest(path: Path, kind: str) -> tuple[str, list[float]]:
    """A hash of the payload of the first ``kind`` stream's packets, and their times in seconds."""
    digest = hashlib.sha256()
    times = []
    with av.open(str(path)) as container:
        stream = next(s for s in container.streams if s.type == kind)
        for packet in container.demux(stream):
            if packet.size:
                digest.update(bytes(packet))
                times.append(round(float(packet.pts * stream.time_base), 4))
    return digest.hexdigest(), times


def describe(path: Path) -> dict:
    """What a film holds: stream types and codecs, rotation, pixel aspect, size."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        first = next(container.decode(stream))
        sar = stream.sample_aspect_ratio
        return {
            "streams": [(s.type, s.codec_context.name) for s in container.streams],
            "rotation": int(first.rotation or 0) % 360,
            "sample_aspect": Fraction(sar) if sar else None,
            "size": (first.width, first.height),
            "codec": stream.codec_context.name,
        }


def retagged(source: Path, target: Path, tags: dict[str, str], stream_tags: dict[str, dict],
             dispositions: dict[str, str], chapters: list[tuple[float, float, str]]) -> Path:  # fmt: skip
    """``source`` copied to ``target`` with container ``tags``, each stream type's tags and
    disposition ("forced", "default|original", ...) and chapters ((start, end, title) in seconds)."""
    with av.open(str(source)) as film, av.open(str(target), "w") as out:
        out.metadata.update(tags)
        streams = {}
        for stream in film.streams:
            streams[stream.index] = copy = out.add_stream_from_template(stream)
            copy.metadata.update(stream_tags.get(stream.type, {}))
            if stream.type in dispositions:
                flags = [av.stream.Disposition[n] for n in dispositions[stream.type].split("|")]
                copy.disposition = sum(flags, av.stream.Disposition(0))
        out.set_chapters([{"id": number + 1, "start": round(start * 1000), "end": round(end * 1000),
                           "time_base": Fraction(1, 1000), "metadata": {"title": title}}
                          for number, (start, end, title) in enumerate(chapters)])  # fmt: skip
        for packet in film.demux():
            if packet.size:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    return target


def tags_of(path: Path) -> dict:
    """What a film says about itself: its tags, each stream's (type, tags, disposition) and its
    chapters' (start in seconds, title)."""
    with av.open(str(path)) as film:
        chapters = [(round(float(c["start"] * c["time_base"]), 3), c["metadata"].get("title"))
                    for c in film.chapters()]  # fmt: skip
        return {
            "tags": dict(film.metadata),
            "streams": [(s.type, dict(s.metadata), s.disposition.name) for s in film.streams],
            "chapters": chapters,
        }


def cut(source: Path, target: Path, *, packets: int = 0, seconds: float = 0.0) -> Path:
    """``source`` copied to ``target`` (same streams, packets as they are) without its first
    ``packets`` video packets (a clip cut mid-GOP) or ``seconds`` earlier (an MP4 or MOV then says,
    in an edit list, to start that far into its media: a phone's "Trim")."""
    with av.open(str(source)) as film, av.open(str(target), "w") as out:
        streams = {stream.index: out.add_stream_from_template(stream) for stream in film.streams}
        video = 0
        for packet in film.demux():
            if not packet.size:
                continue
            if packet.stream.type == "video":
                video += 1
                if video <= packets:
                    continue
            shift = round(seconds / packet.time_base)
            packet.pts, packet.dts = packet.pts - shift, packet.dts - shift
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    return target
