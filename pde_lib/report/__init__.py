"""Results aggregation (``aggregate``), Student-t intervals over seeds (``intervals``), the Holm
correction (``multiple``), per-test-sample errors (``per_sample``), report headers (``header``),
tables (``tables``), fixed colours (``colors``), figures (``plots``) and rendering (``render``)."""

from pde_lib.report.aggregate import (COORDS, collect_results, improvement_summary, load_results,
                                      paired_improvement, summarise, write_results)

__all__ = ["COORDS", "collect_results", "load_results", "write_results", "summarise",
           "paired_improvement", "improvement_summary"]
