"""Run a test module's digest function in a fresh Python with a given PYTHONHASHSEED."""

import json
import os
import subprocess
import sys
from pathlib import Path


def digests_in_fresh_process(module: str, function: str, hashseed: str):
    """``module.function()`` (JSON-serialisable) computed in a new interpreter."""
    code = (f"import json, sys; sys.path.insert(0, sys.argv[1]); import {module} as t; "
            f"print(json.dumps(t.{function}()))")
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    out = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)
