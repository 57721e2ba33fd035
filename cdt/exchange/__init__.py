"""Packs and merging: the container, keys, making a pack, checking and merging incoming files."""
