"""Errors the engine raises. Every message is a sentence a person can act on and names the file."""

from __future__ import annotations


class ColorizeError(Exception):
    """Base class of every error the engine raises on purpose."""


class ImageReadError(ColorizeError):
    """A file could not be read as an image (missing, corrupt, truncated, empty, not an image).

    ``lasting``: the cause is the file's own (not an image, damaged, truncated, empty,
    unsupported): trying again changes nothing until the file does. False where another try may
    well succeed (a network share's I/O error, a file still being copied, a permission since
    granted, a file that reappears), and so by default."""

    def __init__(self, message: str, *, lasting: bool = False) -> None:
        super().__init__(message)
        self.lasting = lasting


class ImageTooLargeError(ImageReadError):
    """An image has more pixels than the configured limit (a guard against decompression bombs)."""


class ImageWriteError(ColorizeError):
    """A result could not be written (folder not writable, disk full, target exists, ...)."""


class WeightsError(ColorizeError):
    """A weights file is missing, truncated, of the wrong format or does not match the model."""


class ModelNotInstalledError(WeightsError):
    """No default model ships with this installation."""


class Cancelled(ColorizeError):
    """The caller asked to stop; raised between stages so no partial result escapes."""


def stop_if_cancelled(is_cancelled) -> None:
    """Raise Cancelled when ``is_cancelled`` (a callable, or None for never) says to stop."""
    if is_cancelled is not None and is_cancelled():
        raise Cancelled("Cancelled.")
