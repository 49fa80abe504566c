"""The live Neuroglancer viewer, Qt side: a controller and its hooks into the window."""
