"""venustui: a terminal live monitor for debugging Venus, virglrenderer and their host drivers."""

__version__ = "0.1.0"
