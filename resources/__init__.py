"""Bundled resources (sample datastacks, icons, styles), read with importlib.resources."""
