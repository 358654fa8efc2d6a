"""Reading and writing films with PyAV (FFmpeg in its wheel): the only module that touches media.

A film is read as its frames' lightness (8-bit gray, one frame at a time), each with its
presentation time in the source's own time base, so variable frame rates and odd time bases come
out exactly as they went in. The colorized frames are encoded as H.264 into *parts*: FFmpeg's NUT
files, which keep any time base and timestamp as given. ``join`` then muxes the parts' packets,
unchanged, with the source's audio and subtitle packets, copied and not re-encoded, into the
final container. Memory stays flat: one frame decoded, one encoded, packets streamed.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from colorize_app.core.errors import ImageReadError, ImageWriteError
from colorize_app.core.vocabulary import FILM_FALLBACK_EXTENSION, FILM_KEPT_CONTAINERS

logger = logging.getLogger(__name__)

# Containers that hold H.264 and the streams they came with are written as they are; the rest
# (AVI: no timestamps for B-frames; WebM: VP8/VP9/AV1 only) become Matroska, which holds H.264
# and every audio and subtitle codec they carry (vocabulary.FILM_KEPT_CONTAINERS).
MUXERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
VIDEO_CODEC = "libx264"
PART_FORMAT = "nut"
# x264 settings: the same for every part, so the parts' headers are identical and their packets
# join into one stream. CRF 18 is visually lossless for most material; "veryfast" keeps the
# encoder a small share of the time on two cores. No B-frames: every packet's decoding time is
# its presentation time, so parts join and interleave with the sound by one clock, in any
# container (AVI-style muxers and NUT's demuxer lose B-frames' decoding times).
ENCODER_OPTIONS = {"crf": "18", "preset": "veryfast", "bf": "0"}
COPIED_TYPES = ("audio", "subtitle")
# Demuxers (FFmpeg's names) whose index lists every frame; Matroska's cues list keyframes only.
INDEXED_FORMATS = ("mov", "avi")
# Tags that describe how a file was written, not the film: the new muxer writes its own, and
# copied they would lie (the old encoder and brands, a stream's old length and bit rate).
WRITER_TAGS = frozenset({
    "encoder", "major_brand", "minor_version", "compatible_brands", "handler_name", "vendor_id",
    "duration", "bps", "number_of_frames", "number_of_bytes",
})  # fmt: skip


class FilmReadError(ImageReadError):
    """A file could not be read as a film (no video stream, damaged, not a film)."""


@dataclass(frozen=True)
class FilmInfo:
    """What a film is, as far as colorizing it needs to know."""

    width: int
    height: int
    time_base: Fraction
    rate: Fraction | None  # the nominal frame rate; None when the container does not say
    frames: int  # the number of frames, counted or estimated from the duration (0: unknown)
    rotation: int  # degrees counter-clockwise, as the display matrix says (0: none)
    sample_aspect: Fraction | None  # pixel aspect ratio; None: square or unknown
    pixel_format: str
    bits: int  # bits per sample of the coded frames (8 for most; 10 for HDR and pro footage)
    copied: tuple[str, ...] = field(default=())  # "audio (aac)", "subtitle (mov_text)", ...
    # ``frames`` is a guess from the whole file's duration, which counts sound that outlasts the
    # picture: a film with fewer frames is not short of any
    frames_guessed: bool = False


def output_extension(source: str | os.PathLike) -> str:
    """The colorized film's extension: the source's when its container holds H.264, else .mkv."""
    ext = Path(source).suffix.lower()
    return Path(source).suffix if ext in FILM_KEPT_CONTAINERS else FILM_FALLBACK_EXTENSION


def probe(path: str | os.PathLike) -> FilmInfo:
    """What ``path`` holds; FilmReadError with a sentence when it is not a film we can read."""
    with _open(path) as container:
        stream = _video_stream(container, path)
        first = _first_frame(container, stream, path)
        descriptor = av.VideoFormat(stream.codec_context.pix_fmt or first.format.name)
        bits = max((component.bits for component in descriptor.components), default=8)
        index = _indexed(container, stream)
        frames, guessed = (index.frames if index else stream.frames), False
        seconds = _stream_seconds(stream)
        if not frames and seconds and stream.average_rate:
            frames = round(seconds * stream.average_rate)
        elif not frames and container.duration and stream.average_rate:
            frames = round(container.duration / av.time_base * stream.average_rate)
            guessed = True
        sar = stream.sample_aspect_ratio
        copied = tuple(f"{s.type} ({s.codec_context.name})" for s in container.streams
                       if s.type in COPIED_TYPES)  # fmt: skip
        return FilmInfo(
            width=first.width, height=first.height, time_base=Fraction(stream.time_base),
            rate=Fraction(stream.guessed_rate) if stream.guessed_rate else None,
            frames=int(frames or 0), rotation=int(first.rotation or 0) % 360,
            sample_aspect=Fraction(sar) if sar and sar != 1 and sar.numerator else None,
            pixel_format=descriptor.name, bits=bits, copied=copied, frames_guessed=guessed,
        )


def _stream_seconds(stream) -> Fraction | None:
    """How long the video stream itself lasts: its duration, or the DURATION tag Matroska and
    WebM writers give each stream ("00:01:02.500000000"); None when neither says."""
    if stream.duration:
        return stream.duration * Fraction(stream.time_base)
    hours, _, rest = str(stream.metadata.get("DURATION", "")).partition(":")
    minutes, _, secs = rest.partition(":")
    try:
        seconds = int(hours) * 3600 + int(minutes) * 60 + Fraction(secs)
    except (ValueError, ZeroDivisionError):
        return None
    return seconds if seconds > 0 else None


def read_frames(path: str | os.PathLike, after: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Each frame of ``path`` as (presentation time in the stream's time base, gray uint8 H x W).

    ``after``: start with the first frame whose time is later than it (a resumed run seeks close
    to it first). A file that ends early ends the frames there, with a warning in the log.
    """
    with _open(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        if after is not None:
            try:
                container.seek(after, stream=stream, backward=True)
            except av.error.FFmpegError:  # some files cannot seek: read from the start
                container.seek(0)
        step = _frame_step(stream)
        last = None
        try:
            for frame in container.decode(stream):
                pts = frame.pts
                if last is not None and (pts is None or pts <= last):
                    # AVI stores no presentation times (FFmpeg guesses them from the decoding
                    # order), damaged files repeat them: such a frame follows the last one.
                    pts = last + step
                last = pts = pts or 0
                if after is not None and pts <= after:
                    continue
                yield pts, frame.to_ndarray(format="gray")
        except (av.error.InvalidDataError, av.error.EOFError) as e:
            logger.warning("%s ends early (damaged or truncated: %s)", Path(path).name, e)


def picture_at(path: str | os.PathLike, seconds: float) -> tuple[np.ndarray, float, float]:
    """The frame of ``path`` on screen at ``seconds`` from its start, upright, as RGB uint8; with
    the film's length in seconds and its frame rate (for a slider over its frames).

    Seeks to the key frame before and decodes from there, so it costs a few frames at most for
    any position. Past the end: the last frame. FilmReadError when nothing can be decoded.
    """
    with _open(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        rate = _rate(stream)
        start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        length = _length(container, stream)
        # The first frame from a millisecond before that moment on (a time from frame_times is a
        # frame's own, to within rounding): a variable rate's quick frames are not skipped.
        wanted = start + seconds - 0.001 if seconds > 0 else start
        if seconds > 0:
            with contextlib.suppress(av.error.FFmpegError):
                container.seek(int(wanted / stream.time_base), stream=stream, backward=True)
        chosen = None
        try:
            for frame in container.decode(stream):
                chosen = frame
                if frame.time is None or frame.time >= wanted:
                    break
        except (av.error.InvalidDataError, av.error.EOFError) as e:
            logger.info("%s: no frame past %.2f s (%s)", Path(path).name, seconds, e)
        if chosen is None:
            raise FilmReadError(f"{Path(path).name}: no frame could be decoded at {seconds:.1f} s.")
        rgb = chosen.to_ndarray(format="rgb24")
        turns = int(chosen.rotation or 0) % 360 // 90
        return np.ascontiguousarray(np.rot90(rgb, turns)), length, rate


def frame_times(path: str | os.PathLike) -> list[float]:
    """When each frame of ``path`` is shown, in seconds from its first, numbered as the colouring
    pass numbers them (a hint's frame k is the k-th): a variable frame rate, frames dropped from
    a capture, an edit list's trimmed frames and sound that outlasts the picture are as they are.
    Read from the index or the packets, no picture decoded; where the packets carry no times,
    k / rate over the film's length (the best guess there is)."""
    with _open(path) as container:
        stream = _video_stream(container, path)
        rate = stream.guessed_rate
        index = _indexed(container, stream)
        if index.even if index else (stream.frames and rate and stream.average_rate == rate):
            # An index (MP4, MOV, AVI) counts the frames and they come at one rate: a feature
            # film's gigabytes need not be read to say when each is shown.
            return [k / float(rate) for k in range(index.frames if index else stream.frames)]
        stamps = []
        try:
            for packet in container.demux(stream):
                stamp = packet.pts if packet.pts is not None else packet.dts
                if packet.size and stamp is not None:
                    stamps.append((stamp, packet.is_keyframe, packet.is_discard))
        except (av.error.InvalidDataError, av.error.EOFError):
            pass  # a damaged end: the frames before it are the ones colorized
        stamps = [stamp for stamp, _key, _discard in _decoded(stamps)]
        if not stamps:
            rate = _rate(stream)
            return [index / rate for index in range(max(1, round(_length(container, stream) * rate)))]
        # From the time picture_at counts from
        start = stream.start_time if stream.start_time is not None else min(stamps)
        base = Fraction(stream.time_base)
        return [float((stamp - start) * base) for stamp in sorted(stamps)]


@dataclass(frozen=True)
class _Index:
    frames: int  # how many frames a decoder gives
    even: bool  # they come one every 1 / rate from the stream's start, none missing


def _indexed(container, stream) -> _Index | None:
    """The frames a decoder gives, as the index of an MP4, MOV or AVI lists them (its header's
    count is no guide: it counts an AVI capture's dropped frames and an edit list's trimmed ones);
    None where the container keeps no index of every frame (Matroska's lists keyframes)."""
    if container.format.name.split(",")[0] not in INDEXED_FORMATS:
        return None
    entries = [(entry.timestamp, entry.is_keyframe, entry.is_discard)
               for entry in stream.index_entries if entry.size]  # fmt: skip
    kept = _decoded(entries)
    if not kept:
        return None
    times = [time for time, _key, _discard in kept]
    rate = stream.guessed_rate
    # One every 1 / rate from the stream's start: one rate, the index's (decoding) times evenly
    # spaced (no frame dropped), and the first frame at the start (not a clip cut mid-GOP, whose
    # start is a frame never decoded)
    even = bool(rate and stream.average_rate == rate
                and abs((max(times) - min(times)) * Fraction(stream.time_base) * rate - (len(kept) - 1)) < 0.5
                and len(kept) == sum(not discard for _time, _key, discard in entries))  # fmt: skip
    return _Index(len(kept), even)


def _decoded(packets: list[tuple[int, bool, bool]]) -> list[tuple[int, bool, bool]]:
    """Of (time, keyframe?, discard?) in decoding order, those a decoder turns into frames, as
    the colouring pass counts them: none marked discard (before an edit list's start, decoded
    only as a reference) and none before the first keyframe (a clip cut mid-GOP: nothing to
    decode them from; when no packet is marked a keyframe, every one counts)."""
    first = next((n for n, (_time, key, _discard) in enumerate(packets) if key), 0)
    return [packet for packet in packets[first:] if not packet[2]]


def poster(path: str | os.PathLike) -> np.ndarray:
    """A frame that stands for the film in a list: a tenth of the way in (the first frames are
    often black), upright RGB uint8. FilmReadError as ``picture_at``."""
    first, length, _rate = picture_at(path, 0.0)
    return picture_at(path, length / 10)[0] if length > 1.0 else first


def _rate(stream) -> float:
    """Frames a second, as the container says them (25 when it does not)."""
    return float(stream.guessed_rate or stream.average_rate or 25)


def _length(container, stream) -> float:
    if stream.duration:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def _frame_step(stream) -> int:
    rate = stream.guessed_rate or stream.average_rate or 25
    return max(1, round(1 / (Fraction(rate) * Fraction(stream.time_base))))


class PartWriter:
    """Encodes colorized frames (RGB uint8) as H.264 into one part file (NUT), timestamps kept."""

    def __init__(self, path: str | os.PathLike, info: FilmInfo, width: int, height: int) -> None:
        self.path = Path(path)
        self._container = av.open(str(self.path), "w", format=PART_FORMAT)
        try:
            stream = self._container.add_stream(VIDEO_CODEC, options=dict(ENCODER_OPTIONS))
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.time_base = info.time_base
            stream.codec_context.time_base = info.time_base
            if info.rate:
                stream.codec_context.framerate = info.rate
            if info.sample_aspect:
                stream.codec_context.sample_aspect_ratio = info.sample_aspect
            # RGB to YUV by the matrix players assume for this size, and said in the stream.
            hd = height >= 720
            stream.codec_context.colorspace = 1 if hd else 6  # BT.709 / SMPTE 170M
            stream.codec_context.color_primaries = 1 if hd else 6
            stream.codec_context.color_trc = 1 if hd else 6
            stream.codec_context.color_range = 1  # limited ("TV") range
            self._space = "ITU709" if hd else "ITU601"
            self._stream = stream
            self._time_base = info.time_base  # the stream's own becomes the muxer's choice
        except BaseException:
            self._container.close()
            raise

    def write(self, pts: int, rgb: np.ndarray) -> None:
        """Encode one frame shown at ``pts`` (the source's time base)."""
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame = frame.reformat(format="yuv420p", dst_colorspace=self._space, dst_color_range="MPEG")
        frame.pts = pts
        frame.time_base = self._time_base
        self._container.mux(self._stream.encode(frame))

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        try:
            self._container.mux(self._stream.encode(None))
        finally:
            self._container.close()

    def abandon(self) -> None:
        """Close without flushing (the part is incomplete and will be removed)."""
        with contextlib.suppress(av.error.FFmpegError):
            self._container.close()


def container_tag(path: str | os.PathLike, key: str) -> str | None:
    """The container-level tag ``key`` of the film at ``path`` (any case; None when it has none).
    Reads the header only. FilmReadError when it cannot be opened."""
    with _open(path) as container:
        wanted = key.lower()
        return next((value for name, value in container.metadata.items() if name.lower() == wanted),
                    None)  # fmt: skip


def join(parts: list[Path], source: str | os.PathLike, output: str | os.PathLike,
         info: FilmInfo, *, container_format: str | None = None,
         tags: dict[str, str | None] | None = None, name: str | None = None) -> None:  # fmt: skip
    """Mux the parts' video and the source's audio and subtitles into ``output``, in time order.

    The packets are copied as they are (the source's sound is never re-encoded); the display
    rotation goes into the new video stream. The film's tags (title, creation time, ...), its
    chapters, and each stream's tags (language, title) and disposition (default, forced, ...) are
    the source's, less those that describe the old file's writing (WRITER_TAGS); ``tags`` go into
    the container over them (a key given None is left out; MP4 and MOV keep any key as an "mdta"
    item, Matroska as a tag). The parts are read one at a time, so a film of any length holds two
    files open and one part's buffers. Raises ImageWriteError when ``output`` cannot be written
    and FilmReadError when a part or the source cannot be read back; both say ``name`` (the film
    ``output`` will become; ``output``'s own name by default).
    """
    name = name or Path(output).name
    options = {"movflags": "+faststart+use_metadata_tags"} if container_format in ("mp4", "mov") else {}
    source_container = video_packets = None
    try:
        try:
            out = av.open(str(output), "w", format=container_format, options=options)
        except (OSError, av.error.FFmpegError) as e:
            raise ImageWriteError(f"Cannot write {Path(output).with_name(name)}: {e}.") from None
        with out:
            source_container = _open(source)
            tags = tags or {}
            replaced = {key.lower() for key in tags}  # (Matroska reads its tags back in capitals)
            out.metadata.update({key: value for key, value in _kept_tags(source_container.metadata).items()
                                 if key.lower() not in replaced})  # fmt: skip
            out.metadata.update({key: value for key, value in tags.items() if value is not None})
            with av.open(str(parts[0])) as first:  # the stream's settings: the same in every part
                video = out.add_stream_from_template(first.streams.video[0])
            video.time_base = info.time_base
            if info.rotation:
                video.set_display_rotation(info.rotation)
            video.metadata.update(_stream_tags(_video_stream(source_container, source)))
            copied = {}
            for stream in source_container.streams:
                if stream.type not in COPIED_TYPES:
                    continue
                try:
                    copied[stream.index] = out.add_stream_from_template(stream)
                except (ValueError, av.error.FFmpegError) as e:
                    logger.warning("The %s stream %d (%s) cannot go into %s and was left out: %s",
                                   stream.type, stream.index, stream.codec_context.name,
                                   Path(name).suffix, e)  # fmt: skip
                    continue
                copied[stream.index].metadata.update(_stream_tags(stream))
                copied[stream.index].disposition = stream.disposition
            _copy_chapters(source_container, out, name)
            video_packets = _part_packets(parts)
            other = (p for p in source_container.demux(*[source_container.streams[i] for i in copied]))
            for packet in heapq.merge(_timed(video_packets), _timed(other) if copied else iter(()),
                                      key=lambda entry: entry[0]):  # fmt: skip
                packet = packet[2]
                packet.stream = video if packet.stream.type == "video" else copied[packet.stream.index]
                out.mux(packet)
    except av.error.FFmpegError as e:
        raise FilmReadError(f"Cannot join the colorized film {name}: {e}.") from None
    finally:
        if video_packets is not None:
            video_packets.close()  # closes the part it was reading
        if source_container is not None:
            source_container.close()


def _kept_tags(metadata) -> dict[str, str]:
    """The tags of a source's container or stream that stay true of the colorized film: all but
    those that describe the file's writing (its muxer and encoder, its brands, the stream's length
    and statistics, which the new muxer writes anew)."""
    return {key: value for key, value in metadata.items()
            if key.lower() not in WRITER_TAGS and not key.upper().startswith("_STATISTICS")}  # fmt: skip


def _stream_tags(stream) -> dict[str, str]:
    """A source stream's tags for its copy (``_kept_tags``). MP4 and MOV read a track's name back
    as "name" but write it from "title", as Matroska does: it is the title."""
    tags = _kept_tags(stream.metadata)
    if "name" in tags and "title" not in tags:
        tags["title"] = tags.pop("name")
    return tags


def _copy_chapters(source, out, name: str) -> None:
    """The source's chapters, into the colorized film (a container that cannot hold them: logged)."""
    try:
        chapters = source.chapters()
        if chapters:
            out.set_chapters(chapters)
    except (ValueError, TypeError, av.error.FFmpegError) as e:
        logger.warning("The chapters cannot go into %s and were left out: %s", name, e)


def _part_packets(parts: list[Path]) -> Iterator:
    """The video packets of ``parts``, in order, each part open only while it is read."""
    for part in parts:
        with av.open(str(part)) as container:
            yield from container.demux(container.streams.video[0])


def _timed(packets) -> Iterator[tuple[float, int, object]]:
    """(time in seconds, order, packet) for the packets worth muxing (flush packets have no time)."""
    for order, packet in enumerate(packets):
        if packet.dts is None:
            packet.dts = packet.pts
        when = packet.dts
        if when is None or packet.size == 0:
            continue
        yield float(when * packet.time_base), order, packet


def _open(path):
    try:
        return av.open(str(path), metadata_errors="replace")
    except FileNotFoundError:
        raise FilmReadError(f"{path} does not exist.") from None
    except (OSError, av.error.FFmpegError, UnicodeDecodeError) as e:
        raise FilmReadError(f"{Path(path).name} cannot be read as a film ({_why(e)}).") from None


def _video_stream(container, path):
    streams = [s for s in container.streams.video if s.codec_context is not None]
    if not streams:
        raise FilmReadError(f"{Path(path).name} has no video stream (only sound or data?).")
    return streams[0]


def _first_frame(container, stream, path):
    try:
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError as e:
        raise FilmReadError(f"{Path(path).name}: its video cannot be decoded ({_why(e)}).") from None
    raise FilmReadError(f"{Path(path).name} has a video stream without a single frame.")


def _why(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return text.rstrip(".")
