"""YAML parameter sets: the study file (``load_params``) and the machine profile
(``load_machine``), both validated on load with errors naming the file and the key's YAML path."""

from pde_lib.params.machine import MachineProfile, load_machine, validate_machine
from pde_lib.params.study import StudyParams, load_params, read_yaml, validate_params

__all__ = ["StudyParams", "load_params", "validate_params", "read_yaml", "MachineProfile",
           "load_machine", "validate_machine"]
