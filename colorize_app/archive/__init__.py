"""Archive scale: the command line's photos colorized on a Ray cluster (``colorize --engine ray``).

Only the command line imports this package (import-linter enforces it), and ray is imported only
by ``runner``: the desktop app and core never need it. ``manifest`` is plain SQLite.
"""

INSTALL_HINT = "pip install 'colorize[archive]'"


def ray_available() -> bool:
    """True when ray (with Ray Data) can be imported; the ``archive`` extra installs it."""
    try:
        import ray.data  # noqa: F401
    except ImportError:
        return False
    return True
