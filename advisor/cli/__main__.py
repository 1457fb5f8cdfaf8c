"""`python -m advisor.cli …`: the same as the `advisor` command."""

from . import main

main()
