"""Every ``cla-bot`` command: :mod:`bot.cli.main` holds the parser, then one module per family.

This package is the only place that prints or picks an exit code; the services below it return
data and raise errors.
"""
