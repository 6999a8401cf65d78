"""The ``stream`` command."""
