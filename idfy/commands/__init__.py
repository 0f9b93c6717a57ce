"""Command-line commands, one module each (see :mod:`idfy.cli`)."""
