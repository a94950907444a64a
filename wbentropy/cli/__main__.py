"""``python -m wbentropy.cli ...``: the same as the ``wbentropy`` command."""
import sys

from . import main

sys.exit(main())
