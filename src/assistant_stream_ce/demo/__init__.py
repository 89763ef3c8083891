"""The demo chat server (``assistant-stream-ce demo``); needs the ``server`` extra."""

from .app import FORMATS, DemoConfig, Format, create_app

__all__ = ["FORMATS", "DemoConfig", "Format", "create_app"]
