"""The Textual app: renders the model and sends actions; everything else is in the core."""

from venustui.tuning import textual_fps

textual_fps()  # before anything imports Textual (the CLI and bench/tui.py import this package first)
