"""Colorize: turn black-and-white photographs into colour ones."""

from importlib.metadata import PackageNotFoundError, version

APP_ID = "io.github.colorize.Colorize"
APP_NAME = "Colorize"

try:
    __version__ = version("colorize")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
