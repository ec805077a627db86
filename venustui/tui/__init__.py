"""The Textual app: renders the model and sends actions; everything else is in the core."""
