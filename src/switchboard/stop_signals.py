"""Stop a command on SIGINT or SIGTERM, even one started with SIGINT ignored.

A background job of a non-interactive shell inherits SIGINT ignored, and Python then
installs no KeyboardInterrupt handler, so Ctrl-C's signal would never stop it. Commands
whose work runs on other threads hold both signals pending instead and wait for one on
the main thread (no handler runs asynchronously, so none can interrupt a lock).
"""

import signal

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


def hold_stop_signals() -> None:
    """Keep SIGINT and SIGTERM pending for :func:`wait_for_stop_signal`. Call it on the
    main thread before starting other threads: they inherit the blocked mask."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    for sig in STOP_SIGNALS:
        # Not SIG_IGN, which discards a signal even while it is blocked.
        signal.signal(sig, signal.SIG_DFL)


def wait_for_stop_signal() -> signal.Signals:
    """Block until SIGINT or SIGTERM arrives (after :func:`hold_stop_signals`)."""
    return signal.Signals(signal.sigwait(STOP_SIGNALS))
