"""Command-line tools for streaming endpoints: ``inspect`` (a live timeline) and ``check``
(protocol conformance). They need ``httpx``."""
