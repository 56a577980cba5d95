"""Stand-in for the get-pip.py bootstrap script ansible-test downloads from ci-files.testing.ansible.com
(a host this machine cannot reach): pip comes from the interpreter's own ensurepip wheel, then the
requested packages (e.g. ``pip==24.2``) from PyPI with that pip. ``make ansible-sanity`` copies it
to ``~/.ansible/test/cache/get_pip_<version>.py`` before running ``ansible-test sanity``."""

import ensurepip
import os
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
ensurepip.bootstrap()
# ensurepip leaves PIP_CONFIG_FILE=/dev/null behind; the machine's pip.conf (index, CA) must apply.
env = dict(os.environ)
env.pop("PIP_CONFIG_FILE", None)
env.pop("ENSUREPIP_OPTIONS", None)
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args, env=env)
