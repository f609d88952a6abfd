"""`python -m metrics_layer.cli`."""

from metrics_layer.cli import main

main()
