"""The relay coordination service (``marsrelay serve``): agencies request, negotiate and
account for relay passes over a shared Mars relay network.

Layers, one way only: ``domain`` (pure rules: states, permissions, windows and conflicts) <-
``db`` (SQLAlchemy models, engine, unit of work) <- ``operations`` (the service layer that the
API, the CLI and the web pages all call) <- ``api`` (FastAPI routes). ``predict`` and ``plan``
are the only modules that call marsrelay's planning stages (contacts, links, schedule).

The contract is the project's service specification: CLI commands, REST paths, fields, states
and status codes are fixed.
"""
