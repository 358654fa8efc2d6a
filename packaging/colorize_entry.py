"""Entry point of the PyInstaller bundle: the same ``main()`` as the ``colorize-app`` command.

``colorize-app --self-test`` works from the bundle too (no display needed).
"""

import sys

if sys.platform == "win32":
    # torch's DLLs must be loaded before Qt's, or one of them fails to initialise (a known
    # clash between the two sets of DLLs). This costs torch's import time before the window on
    # Windows only; elsewhere the window still appears before torch is imported.
    import torch  # noqa: F401

from colorize_app.app import main

if __name__ == "__main__":
    sys.exit(main())
