"""Qt-free work: data sources (local, CAVE), export, connectivity, links, tokens."""
