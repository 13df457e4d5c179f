#!/usr/bin/python3
# check-flatpak-manifest.py: the Flatpak manifest names the right app, runtime and sandbox holes
# SPDX-License-Identifier: GPL-3.0-or-later
#
# flatpak-builder needs the network to fetch the runtime, so this checks what
# it would build from: usage: check-flatpak-manifest.py MANIFEST SOURCE_ROOT KIND
# KIND is `local` (flatpak/io.github.gochat.GoChat-local.json, the development
# manifest: builds the checkout it sits in) or `release`
# (flatpak/io.github.gochat.GoChat.json: builds the git repository at the tag
# of this version). Prints TAP.

import json
import os
import re
import sys

from tap import Tap

APP_ID = 'io.github.gochat.GoChat'

# What each GNOME runtime ships: (GTK, GLib, libsoup). GNOME 43 was the first
# with all of Debian 12's versions, which are what meson.build requires.
GNOME_RUNTIMES = {
    43: ((4, 8), (2, 74), (3, 2)),
    44: ((4, 10), (2, 76), (3, 4)),
    45: ((4, 12), (2, 78), (3, 4)),
    46: ((4, 14), (2, 80), (3, 4)),
    47: ((4, 16), (2, 82), (3, 6)),
    48: ((4, 18), (2, 84), (3, 6)),
    49: ((4, 20), (2, 86), (3, 6)),
}
REQUIRED = ((4, 8), (2, 74), (3, 2))

# Exactly these: the network for servers, a display, GL. Nothing broader.
FINISH_ARGS = [
    '--share=network',
    '--share=ipc',
    '--socket=wayland',
    '--socket=fallback-x11',
    '--device=dri',
]

# Both come with org.gnome.Platform; building our own copy would only add
# an outdated duplicate.
FROM_RUNTIME = ('json-glib', 'libsoup')

def runtime_versions(version):
    """The (GTK, GLib, libsoup) of a GNOME runtime version, or None."""
    try:
        major = int(version)
    except (TypeError, ValueError):
        return None
    if major in GNOME_RUNTIMES:
        return GNOME_RUNTIMES[major]
    # Newer than the table: GNOME never moves these libraries backwards.
    if major > max(GNOME_RUNTIMES):
        return GNOME_RUNTIMES[max(GNOME_RUNTIMES)]
    return None


def module_mentions(module, name):
    """Whether a module (or a module nested in it) builds the library name."""
    if isinstance(module, str):
        return name in os.path.basename(module)
    if name in module.get('name', ''):
        return True
    for source in module.get('sources', []):
        if isinstance(source, dict) and any(name in str(source.get(key, ''))
                                            for key in ('url', 'path')):
            return True
    return any(module_mentions(sub, name) for sub in module.get('modules', []))


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in ('local', 'release'):
        print('usage: check-flatpak-manifest.py MANIFEST SOURCE_ROOT local|release',
              file=sys.stderr)
        return 2
    manifest_path, source_root, kind = sys.argv[1], sys.argv[2], sys.argv[3]

    tap = Tap()
    check = tap.check
    try:
        with open(manifest_path, encoding='utf-8') as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        return tap.bail_out(f'the manifest does not parse as JSON: {e}')
    if not check(isinstance(manifest, dict), 'the manifest is a JSON object'):
        return tap.finish()

    app_id = manifest.get('id', manifest.get('app-id'))
    check(app_id == APP_ID, f'app id is {APP_ID}', f'found {app_id!r}')
    expected_name = APP_ID + ('-local.json' if kind == 'local' else '.json')
    check(os.path.basename(manifest_path) == expected_name,
          f'the {kind} manifest is {expected_name}', os.path.basename(manifest_path))
    check(manifest.get('command') == 'gochat', 'command is gochat',
          f'found {manifest.get("command")!r}')
    check(manifest.get('runtime') == 'org.gnome.Platform', 'runtime is org.gnome.Platform',
          f'found {manifest.get("runtime")!r}')
    check(manifest.get('sdk') == 'org.gnome.Sdk', 'sdk is org.gnome.Sdk',
          f'found {manifest.get("sdk")!r}')

    runtime_version = manifest.get('runtime-version')
    versions = runtime_versions(runtime_version)
    check(versions is not None, 'runtime-version is a known GNOME release (43 or later)',
          f'found {runtime_version!r}')
    if versions is not None:
        for library, have, need in zip(('GTK', 'GLib', 'libsoup'), versions, REQUIRED):
            check(have >= need,
                  f'GNOME {runtime_version} has {library} >= {".".join(map(str, need))}',
                  f'it has {".".join(map(str, have))}')

    finish_args = manifest.get('finish-args', [])
    check(sorted(finish_args) == sorted(FINISH_ARGS) and len(set(finish_args)) == len(finish_args),
          'finish-args are exactly network, ipc, wayland, fallback-x11, dri',
          f'found {finish_args!r}')

    modules = manifest.get('modules', [])
    check(isinstance(modules, list) and len(modules) > 0, 'there are modules')
    project = modules[-1] if modules and isinstance(modules[-1], dict) else {}
    check(project.get('name') == 'gochat', 'the last module is gochat',
          f'found {project.get("name")!r}')
    check(project.get('buildsystem') == 'meson', 'gochat builds with meson',
          f'found {project.get("buildsystem")!r}')
    config_opts = project.get('config-opts', [])
    check('-Dapp=false' not in config_opts, 'the Flatpak builds the app (no -Dapp=false)',
          f'config-opts {config_opts!r}')

    sources = project.get('sources', [])
    if kind == 'local':
        manifest_dir = os.path.dirname(os.path.abspath(manifest_path))
        local = [s for s in sources if isinstance(s, dict) and s.get('type') == 'dir'
                 and os.path.realpath(os.path.join(manifest_dir, s.get('path', '')))
                 == os.path.realpath(source_root)]
        check(len(sources) == 1 and len(local) == 1,
              'gochat is built from the local checkout (one dir source at the source root)',
              f'sources {sources!r}')
    else:
        with open(os.path.join(source_root, 'meson.build'), encoding='utf-8') as f:
            version = re.search(r"version:\s*'([^']+)'", f.read()).group(1)
        git = [s for s in sources if isinstance(s, dict) and s.get('type') == 'git']
        check(len(sources) == 1 and len(git) == 1
              and str(git[0].get('url', '')).startswith('https://'),
              'gochat is built from its git repository (one git source over https)',
              f'sources {sources!r}')
        tag = git[0].get('tag') if git else None
        check(tag == 'v' + version, f'at the tag of this version (v{version})',
              f'tag {tag!r}')

    # A load generator has no place in a desktop app.
    check('/bin/gochat-bench' in manifest.get('cleanup', []),
          'gochat-bench is left out of the Flatpak (cleanup /bin/gochat-bench)',
          f'cleanup {manifest.get("cleanup")!r}')

    for library in FROM_RUNTIME:
        builders = [m if isinstance(m, str) else m.get('name') for m in modules
                    if module_mentions(m, library)]
        check(not builders, f'{library} comes from the runtime (no module builds it)',
              f'built by {builders!r}')

    return tap.finish()


if __name__ == '__main__':
    sys.exit(main())
