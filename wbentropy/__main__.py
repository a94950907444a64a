"""``python -m wbentropy ...``: the same as the ``wbentropy`` command."""
import sys

from .cli import main

sys.exit(main())
