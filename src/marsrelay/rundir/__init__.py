"""Run folders: the one place that knows what a run writes and how.

- :mod:`.schema`: every file, its columns, units and meaning;
- :mod:`.tables`: the one table writer (CSV + Parquet, atomic) and reader;
- :mod:`.folder`: a run folder as a transaction (written into a temporary sibling, swapped in
  whole, ``run.json`` records status, scenario hash, versions, timings and files; a lock keeps
  a second writer out).
"""
