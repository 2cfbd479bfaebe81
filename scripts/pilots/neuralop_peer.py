"""The peer row of the FNO2D channel-MLP pilot (next_study_fno_channel_mlp): neuraloperator 2.0's
FNO, now one of the peers of ``peers.py``; this name is kept for the commands published with it.

    python scripts/pilots/neuralop_peer.py PARAMS.yaml DATA_DIR OUT [--label fno2d] [--pdes heat,burgers]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import main  # noqa: E402

if __name__ == "__main__":
    main(["neuralop_fno", *sys.argv[1:]])
