"""`python -m sim`: an interrupt while the program is still loading gives one line, no traceback."""

import sys

try:
    from sim.cli import main
except KeyboardInterrupt:
    print("interrupted: nothing was run or written", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
