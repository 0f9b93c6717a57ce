"""``python -m idfy``."""

import sys

from idfy.cli import main

if __name__ == "__main__":
    sys.exit(main())
