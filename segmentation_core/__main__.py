"""``python -m segmentation_core``: see :mod:`segmentation_core.cli`."""

import sys

from segmentation_core.cli import main

sys.exit(main())
