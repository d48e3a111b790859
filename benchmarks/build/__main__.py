"""`python -m benchmarks.build ...` runs the same commands as `predbench build ...`."""

import sys

from benchmarks.cli import app

if __name__ == "__main__":
    app(args=["build", *sys.argv[1:]], prog_name="predbench")
