"""pde-pretrain: a reproducible study of pretraining strategies for neural operators.

Data flows one way: parameters (``pde_lib.params``) -> data (``pde_lib.generation`` solves with
``pde_lib.pdes`` and writes ``pde_lib.data`` files) -> model (``pde_lib.models``) -> pretraining
(``pde_lib.pretraining``) -> fine-tuning (``pde_lib.training``), both on one engine
(``pde_lib.engine``) -> metrics -> results tables (``pde_lib.sweep``) and reports
(``pde_lib.report``). The packages import only downwards: docs/architecture.md lists the layers.
"""

__version__ = "0.1.0"
