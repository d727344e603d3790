"""The ``marsrelay`` command line: typer + rich, one thin module per command group.

:mod:`marsrelay.cli.main` holds the shared typer ``app``; each command module registers its
commands on it; :mod:`marsrelay.cli.common` has the consoles and the user-error guard.
"""
