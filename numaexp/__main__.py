"""``python -m numaexp ...``: the same command line as the ``numaexp`` script."""

import sys

from numaexp.cli import main

if __name__ == "__main__":
    sys.exit(main())
