"""Statistics, tables and plots over a results table (``results.csv``, written by
``pde_lib.sweep.results``): loading and summaries over seeds (``aggregate``), Student-t intervals
(``intervals``), the Holm correction (``multiple``), per-test-sample comparisons (``per_sample``),
report headers (``header``), tables (``tables``), fixed colours (``colors``), figures
(``plots``), the claims' comparison families (``findings``) and the seeds needed to resolve an
effect (``precision``). Nothing here imports the sweep; ``pde_lib.sweep.render`` executes the report notebooks."""

from pde_lib.report.aggregate import (COLUMNS, COORDS, METRICS, improvement_summary, load_results,
                                      paired_improvement, summarise)

__all__ = ["COLUMNS", "COORDS", "METRICS", "load_results", "summarise", "paired_improvement",
           "improvement_summary"]
