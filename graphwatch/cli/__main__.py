"""``python -m graphwatch.cli`` (benchmarks and tests run the CLI in a subprocess this way)."""

from . import main

main()
