"""`python -m sim`: an interrupt while the program is still loading gives one line, no traceback.

Ctrl-C is held back while the simulator's modules load (an interrupt inside a compiled
module's import or a class definition would otherwise surface as some other error) and
delivered straight after, where it is answered in one line.
"""

import atexit
import os
import signal
import sys

HOLD = hasattr(signal, "pthread_sigmask")
_CODE: list[int] = []


def _interrupted_exit() -> None:
    """After an answered Ctrl-C, end with 130 once every other exit hook has run.

    Registered before anything else, so it runs last. A further Ctrl-C during the interpreter's
    own shutdown after it has been seen to end the process by the signal itself (exit -2)
    instead of with the exit code already printed for (most likely a handler put back during
    the exit hooks, which shutdown resets to the default): so that shutdown is skipped."""
    if _CODE == [130]:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)


atexit.register(_interrupted_exit)

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
if code == 130:  # further Ctrl-C while the exit hooks run are ignored
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _CODE.append(130)
sys.exit(code)
