# tap.py: collects named checks and prints them as TAP, for the packaging tests
# SPDX-License-Identifier: GPL-3.0-or-later

import sys


class Tap:
    def __init__(self):
        self.results = []

    def check(self, ok, what, detail=None):
        """Records one check; detail explains a failure."""
        self.results.append((bool(ok), what, detail))
        return bool(ok)

    def finish(self):
        """Prints the plan and results; returns the exit status."""
        print(f'1..{len(self.results)}')
        for number, (ok, what, detail) in enumerate(self.results, 1):
            print(f'{"ok" if ok else "not ok"} {number} - {what}')
            if not ok and detail:
                for line in str(detail).splitlines():
                    print(f'# {line}')
        sys.stdout.flush()
        return 0 if self.results and all(ok for ok, _, _ in self.results) else 1

    def bail_out(self, reason):
        """Ends the run when nothing further can be checked."""
        print(f'Bail out! {reason}')
        return 1
