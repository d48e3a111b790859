"""`python -m benchmarks.build ...` runs the same commands as `predbench build ...`."""

from benchmarks.build.cli import app

if __name__ == "__main__":
    app(prog_name="predbench build")
