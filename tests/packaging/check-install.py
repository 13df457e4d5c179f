#!/usr/bin/python3
# check-install.py: `meson install` puts exactly the expected files in place, and they fit together
# SPDX-License-Identifier: GPL-3.0-or-later
#
# usage: check-install.py MESON BUILD_ROOT VERSION EXPECTED_PATH...
# Installs the build into a temporary DESTDIR (without rebuilding: meson test
# has built everything) and compares the installed files with the absolute
# paths given. A file installed but not expected fails too, so whoever adds
# one lists it in tests/meson.build. Man pages must show VERSION, the project
# version, which meson.build alone defines. Prints TAP.

import configparser
import os
import shutil
import subprocess
import sys
import tempfile

from tap import Tap


def installed_files(destdir):
    """Every installed file, as its absolute path on the target system."""
    found = set()
    for directory, _, files in os.walk(destdir):
        for name in files:
            found.add('/' + os.path.relpath(os.path.join(directory, name), destdir))
    return found


def main():
    if len(sys.argv) < 5:
        print('usage: check-install.py MESON BUILD_ROOT VERSION EXPECTED_PATH...', file=sys.stderr)
        return 2
    meson, build_root, version = sys.argv[1:4]
    expected = set(os.path.normpath(p) for p in sys.argv[4:])
    tap = Tap()
    check = tap.check

    destdir = tempfile.mkdtemp(prefix='gochat-install-')
    try:
        env = dict(os.environ)
        env.pop('DESTDIR', None)
        run = subprocess.run([meson, 'install', '-C', build_root, '--destdir', destdir,
                              '--no-rebuild', '--quiet'],
                             capture_output=True, text=True, env=env)
        if not check(run.returncode == 0, 'meson install --destdir succeeds',
                     (run.stdout + run.stderr).strip()):
            return tap.finish()

        found = installed_files(destdir)
        for path in sorted(expected):
            check(path in found, f'{path} is installed')
        unexpected = sorted(found - expected)
        check(not unexpected, 'nothing else is installed', '\n'.join(unexpected))

        for path in sorted(p for p in expected & found if '/bin/' in p):
            check(os.access(destdir + path, os.X_OK), f'{path} is executable')

        # The pieces refer to each other by name: check the names resolve.
        for path in sorted(p for p in found if p.endswith('.desktop')):
            entry = configparser.ConfigParser(interpolation=None)
            entry.optionxform = str
            entry.read(destdir + path, encoding='utf-8')
            program = entry.get('Desktop Entry', 'Exec', fallback='').split()[:1]
            check(program and any(p.endswith('/bin/' + program[0]) for p in found),
                  f'the program in {os.path.basename(path)} Exec= is installed', program)
            icon = entry.get('Desktop Entry', 'Icon', fallback='')
            check(any(p.endswith('/icons/hicolor/scalable/apps/' + icon + '.svg') for p in found),
                  f'the icon {icon} of {os.path.basename(path)} is installed')
            check(any(p.endswith('/icons/hicolor/symbolic/apps/' + icon + '-symbolic.svg')
                      for p in found),
                  f'the symbolic icon {icon}-symbolic is installed')

        for path in sorted(p for p in found if '/man/man' in p):
            with open(destdir + path, encoding='utf-8') as f:
                title = [line.strip() for line in f if line.startswith('.TH ')]
            check(len(title) == 1 and f'"GoChat {version}"' in title[0],
                  f'{os.path.basename(path)} shows version {version}', title)

        for path in sorted(p for p in found if p.endswith('.service')):
            with open(destdir + path, encoding='utf-8') as f:
                exec_start = [line.split('=', 1)[1].split()[0] for line in f
                              if line.startswith('ExecStart=')]
            check(len(exec_start) == 1 and exec_start[0] in found,
                  f'ExecStart of {os.path.basename(path)} is the installed program', exec_start)
    finally:
        shutil.rmtree(destdir, ignore_errors=True)

    return tap.finish()


if __name__ == '__main__':
    sys.exit(main())
