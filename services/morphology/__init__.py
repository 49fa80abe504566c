"""Qt-free morphology: skeletons, compartments, synapses mapped onto them."""
