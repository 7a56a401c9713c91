"""``python -m bridge.config``: regenerate the config schema and config/README.md."""

import sys

from bridge.config.generate import main

sys.exit(main())
