"""What the tests share besides fixtures: builders of files and packs, report data, hypothesis profiles.

Fixtures live in ``tests/conftest.py``; a test module imports helpers from here, never from another
test module."""
