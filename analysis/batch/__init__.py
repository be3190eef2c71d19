"""A city's districts as one batch on Dask, resumable, with one comparison.

``python -m analysis batch BATCH.csv --out FOLDER`` (CONTRACT.md): :mod:`.table` reads the
districts, :mod:`.task` runs one district (the single run's pipeline) as a Dask task,
:mod:`.runner` runs the batch and shows its progress, :mod:`.compare` and :mod:`.pdf` write
``comparison.xlsx`` and ``comparison.pdf``.
"""

from analysis.batch.runner import BatchResult, run_batch
from analysis.batch.table import District, read_batch

__all__ = ["BatchResult", "District", "read_batch", "run_batch"]
