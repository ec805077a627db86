"""The Textual app: renders the model and sends actions; everything else is in the core."""

import os

# Textual coalesces refreshes into one screen update per 1/FPS (60 by default): a key then waits up
# to 17 ms for its update to start. Our refreshes are timed (a few a second), so a shorter window
# answers keys sooner without painting more often. Read once, when Textual is first imported.
os.environ.setdefault("TEXTUAL_FPS", "240")
