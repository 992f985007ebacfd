"""Runs ``main.py`` as ``__main__`` inside a box, after setting the process limit
(``--nproc N``) there, where the kernel counts the box's own processes."""

import os
import runpy
import sys

if "--nproc" in sys.argv:
    import resource

    count = int(sys.argv[sys.argv.index("--nproc") + 1])
    resource.setrlimit(resource.RLIMIT_NPROC, (count, count))
sys.argv = ["main.py"]
sys.path.insert(0, os.getcwd())
runpy.run_path("main.py", run_name="__main__")
