"""``python -m ritlink …``: child processes show up in ps under the product's name."""

import sys

from ritlink.cli import main

sys.exit(main())
