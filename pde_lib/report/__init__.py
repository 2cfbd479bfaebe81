"""Results aggregation (``aggregate``), bootstrap CIs (``bootstrap``), tables (``tables``),
figures (``plots``) and report rendering (``render``)."""

from pde_lib.report.aggregate import (COORDS, collect_results, improvement_summary, load_results,
                                      paired_improvement, summarise, write_results)
from pde_lib.report.bootstrap import bootstrap_ci

__all__ = ["COORDS", "collect_results", "load_results", "write_results", "summarise",
           "paired_improvement", "improvement_summary", "bootstrap_ci"]
