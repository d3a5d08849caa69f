"""``cnnkit`` killed by itself at a chosen moment, for tests/test_cli_resume.py.

Usage: cli_kill_job.py HOOK N ARGS...: run ``cnnkit ARGS`` and SIGKILL the process at the
N-th call of HOOK: 'batch' (a training step about to run) or 'state' (run.json just written
at the end of an epoch, before the backup of that epoch).
"""

from __future__ import annotations

import os
import signal
import sys

from cnnkit.cli import _run_callbacks, _schedule, main

HOOKS = {
    "batch": (_schedule.OneCycle, "on_train_batch_begin"),
    "state": (_run_callbacks.StateWriter, "on_epoch_end"),
}


def kill_at(hook: str, at: int) -> None:
    owner, name = HOOKS[hook]
    original, calls = getattr(owner, name), [0]

    def dying(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        calls[0] += 1
        if calls[0] == at:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(owner, name, dying)


if __name__ == "__main__":
    kill_at(sys.argv[1], int(sys.argv[2]))
    sys.exit(main(sys.argv[3:]))
