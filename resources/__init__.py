"""Colorize's non-code assets: the application icon, the sample photo and its credits.

This folder sits beside `colorize_app/` in the source tree and is installed as the package
`colorize_app.resources` (pyproject.toml, `[tool.setuptools.package-dir]`); the PyInstaller spec
puts it at the same place in the bundle. `colorize_app.core.assets` finds it in every case.
"""
