"""Compare a re-run of some cells with a published study, fine-tune by fine-tune:

    python scripts/compare_results.py outputs/published/laptop outputs/laptop_check

prints how many fine-tunes agree bitwise and the largest relative differences (see
``pde_lib.report.compare``); exit code 1 if a fine-tune of the re-run is not in the reference."""

import sys

from pde_lib.errors import PDELibError
from pde_lib.report.compare import compare_results, comparison_summary


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(comparison_summary(compare_results(argv[0], argv[1])))
    except PDELibError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
