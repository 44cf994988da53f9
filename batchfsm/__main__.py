"""``python -m batchfsm``: the same as the ``batchfsm`` command."""

import sys

from ._cli import main

sys.exit(main())
