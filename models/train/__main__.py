"""``python -m ellora.models.train ACTION ...`` (what ``accelerate launch -m`` runs): the same
as ``ellora train ACTION ...``."""

import sys

from ellora.agents.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
