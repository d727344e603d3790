"""marsrelay: plan and simulate the relay communications of Mars surface missions.

Stages, each a module or package, data flowing one way:
scenario -> geometry (time, ephemeris, rotation, orbits, sites) -> contacts -> links ->
schedule -> simulation -> report.
"""

__version__ = "0.1.0"
