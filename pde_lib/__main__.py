"""``python -m pde_lib <command>``: see ``pde_lib.cli``."""

from pde_lib.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
