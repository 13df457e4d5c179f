#!/usr/bin/python3
# check-desktop-file.py: the built desktop entry validates cleanly and opens gochat:// links
# SPDX-License-Identifier: GPL-3.0-or-later
#
# usage: check-desktop-file.py DESKTOP_FILE_VALIDATE DESKTOP_FILE
# desktop-file-validate exits 0 on warnings and hints; any output fails here.
# Prints TAP.

import configparser
import os
import subprocess
import sys

from tap import Tap

APP_ID = 'io.github.gochat.GoChat'


def main():
    if len(sys.argv) != 3:
        print('usage: check-desktop-file.py DESKTOP_FILE_VALIDATE DESKTOP_FILE', file=sys.stderr)
        return 2
    validator, path = sys.argv[1], sys.argv[2]
    tap = Tap()
    check = tap.check

    run = subprocess.run([validator, path], capture_output=True, text=True)
    report = (run.stdout + run.stderr).strip()
    check(run.returncode == 0 and not report,
          'desktop-file-validate reports nothing', report or f'exit status {run.returncode}')

    check(os.path.basename(path) == APP_ID + '.desktop', f'the file is {APP_ID}.desktop',
          os.path.basename(path))

    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    try:
        parser.read(path, encoding='utf-8')
    except configparser.Error as e:
        return tap.bail_out(f'cannot parse {path}: {e}')
    if not check(parser.has_section('Desktop Entry'), 'there is a [Desktop Entry] group'):
        return tap.finish()
    entry = parser['Desktop Entry']

    exec_words = entry.get('Exec', '').split()
    check(exec_words[:1] == ['gochat'], 'Exec runs gochat', entry.get('Exec'))
    check('%u' in exec_words or '%U' in exec_words, 'Exec takes the invite link (%u)',
          entry.get('Exec'))
    mime_types = [t for t in entry.get('MimeType', '').split(';') if t]
    check('x-scheme-handler/gochat' in mime_types, 'MimeType has x-scheme-handler/gochat',
          entry.get('MimeType'))
    check(entry.get('Icon') == APP_ID, f'Icon is {APP_ID}', entry.get('Icon'))
    check(entry.get('Type') == 'Application', 'Type is Application', entry.get('Type'))
    check(entry.get('Name') == 'GoChat', 'Name is GoChat', entry.get('Name'))
    return tap.finish()


if __name__ == '__main__':
    sys.exit(main())
