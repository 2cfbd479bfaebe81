"""pde-pretrain: a reproducible study of pretraining strategies for neural operators.

Data flows one way: parameters -> data (``pde_lib.pdes``, ``pde_lib.data``) -> model
(``pde_lib.models``) -> pretraining (``pde_lib.pretraining``) -> fine-tuning
(``pde_lib.training``) -> metrics and report (``pde_lib.report``).
"""

__version__ = "0.1.0"
