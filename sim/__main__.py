"""`python -m sim`: an interrupt while the program is still loading gives one line, no traceback.

Ctrl-C is held back while the simulator's modules load (an interrupt inside a compiled
module's import or a class definition would otherwise surface as some other error) and
delivered straight after, where it is answered in one line.
"""

import signal
import sys

HOLD = hasattr(signal, "pthread_sigmask")

try:
    if HOLD:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        from sim.cli import main
    finally:
        if HOLD:  # a Ctrl-C that arrived meanwhile is raised here
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
except KeyboardInterrupt:
    print("interrupted: nothing was run or written", file=sys.stderr)
    sys.exit(130)

try:
    code = main()
except KeyboardInterrupt:  # a second Ctrl-C in the instant before main could answer the first
    print("interrupted: files already in place are complete; nothing was half-written", file=sys.stderr)
    code = 130
sys.exit(code)
