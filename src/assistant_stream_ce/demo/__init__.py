"""The demo chat server (``assistant-stream-ce demo``); needs the ``server`` extra."""

from .app import DemoConfig, create_app

__all__ = ["DemoConfig", "create_app"]
