"""The geometry stage: where everything is, at arrays of times.

Modules, one concept each (import them directly):

- :mod:`~marsrelay.geometry.time`: UTC ISO 8601 at the edges, TDB seconds past J2000 inside;
- :mod:`~marsrelay.geometry.ephemeris`: JPL DE421 (or a planetary SPK) for the Sun, Earth, Mars;
- :mod:`~marsrelay.geometry.rotation`: the IAU Mars rotation models (2009 default, 2015);
- :mod:`~marsrelay.geometry.orbits`: orbiter trajectories (mean elements + J2, SPK, OEM);
- :mod:`~marsrelay.geometry.sites`: Mars surface sites and Earth stations, az/el/range;
- :mod:`~marsrelay.geometry.solar_time`: Mars Sol Date, LMST, local sols;
- :mod:`~marsrelay.geometry.snapshot`: the whole scenario at one instant (``marsrelay geometry``);
- :mod:`~marsrelay.geometry.tracks`: ground tracks and Earth-Mars geometry over a span (report).
"""
