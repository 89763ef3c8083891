"""``python -m assistant_stream_ce``: the command line."""

import sys

from .cli import main

sys.exit(main())
