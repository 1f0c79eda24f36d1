"""``python -m livegate``."""

from livegate.cli.main import main

main()
