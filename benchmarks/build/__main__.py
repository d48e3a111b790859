"""`python -m benchmarks.build ...` runs the same commands as `predbench build ...`."""

from benchmarks.build.cli import app

app(prog_name="predbench build")
