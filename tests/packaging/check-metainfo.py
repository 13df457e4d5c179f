#!/usr/bin/python3
# check-metainfo.py: the built AppStream metainfo validates strictly and matches the project
# SPDX-License-Identifier: GPL-3.0-or-later
#
# usage: check-metainfo.py APPSTREAMCLI METAINFO SOURCE_ROOT VERSION
# VERSION is meson.build's project version, which the newest release must
# name. Prints TAP.

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

from tap import Tap

APP_ID = 'io.github.gochat.GoChat'
# The screenshot is served from the repository, so it must exist in it.
SCREENSHOT_URL_PREFIX = 'https://github.com/gochat/gochat/raw/main/'


def version_key(version):
    return tuple(int(part) for part in version.split('.'))


def main():
    if len(sys.argv) != 5:
        print('usage: check-metainfo.py APPSTREAMCLI METAINFO SOURCE_ROOT VERSION', file=sys.stderr)
        return 2
    appstreamcli, path, source_root, version = sys.argv[1:]
    tap = Tap()
    check = tap.check

    # --strict fails on anything but pedantic hints; --no-net, since there is
    # no network here (it would fetch the screenshot and URLs).
    run = subprocess.run([appstreamcli, 'validate', '--no-net', '--strict', '--explain', path],
                         capture_output=True, text=True)
    check(run.returncode == 0, 'appstreamcli validate --no-net --strict passes',
          (run.stdout + run.stderr).strip())

    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        return tap.bail_out(f'cannot parse {path}: {e}')

    check(os.path.basename(path) == APP_ID + '.metainfo.xml', f'the file is {APP_ID}.metainfo.xml',
          os.path.basename(path))
    check(root.findtext('id') == APP_ID, f'id is {APP_ID}', root.findtext('id'))
    launchables = [(l.get('type'), l.text) for l in root.findall('launchable')]
    check(launchables == [('desktop-id', APP_ID + '.desktop')],
          f'launchable is the desktop entry {APP_ID}.desktop', launchables)

    binaries = sorted(b.text for b in root.findall('provides/binary'))
    check(binaries == ['gochat', 'gochat-server'], 'provides the binaries gochat and gochat-server',
          binaries)

    url_types = {u.get('type') for u in root.findall('url')}
    check({'homepage', 'bugtracker', 'vcs-browser'} <= url_types,
          'has homepage, bugtracker and vcs-browser urls', sorted(url_types))

    rating = root.find('content_rating')
    chat = root.findtext("content_rating/content_attribute[@id='social-chat']")
    check(rating is not None and rating.get('type', '').startswith('oars-') and chat == 'intense',
          'OARS rating: unmoderated chat between users (social-chat intense)', chat)

    releases = [r.get('version') for r in root.findall('releases/release')]
    check(releases[:1] == [version], f'the newest release is the project version {version}',
          releases)
    try:
        ordered = releases == sorted(releases, key=version_key, reverse=True)
    except ValueError:
        ordered = False
    check(ordered, 'releases are listed newest first', releases)

    images = [i.text.strip() for i in root.findall('screenshots/screenshot/image')]
    check(len(images) > 0, 'there is a screenshot')
    for image in images:
        relative = image[len(SCREENSHOT_URL_PREFIX):] if image.startswith(SCREENSHOT_URL_PREFIX) else None
        check(relative is not None and os.path.isfile(os.path.join(source_root, relative)),
              f'screenshot {image} is a file of this repository', relative)

    return tap.finish()


if __name__ == '__main__':
    sys.exit(main())
