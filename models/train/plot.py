"""The loss curve of a run (``train_log.jsonl``) as a PNG, with matplotlib's Agg backend.

python -m ellora.models.train.plot OUTPUT/train_log.jsonl loss.png [--title TEXT]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def plot_loss(log_path: str | Path, png_path: str | Path, title: str = "") -> Path:
    """Plot loss per optimizer step and its running mean into ``png_path``: the mean's window
    grows with the run (5 steps, or a fiftieth of a long run, whose per-step loss of one
    sequence is noise)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [json.loads(line) for line in Path(log_path).read_text().splitlines() if line]
    steps = [r["step"] for r in records]
    losses = [r["loss"] for r in records]
    window = max(5, len(losses) // 50)
    smooth = [
        sum(losses[max(0, i - window + 1) : i + 1]) / len(losses[max(0, i - window + 1) : i + 1])
        for i in range(len(losses))
    ]
    figure, axis = plt.subplots(figsize=(7, 4), dpi=110)
    few = len(steps) <= 300
    axis.plot(steps, losses, marker="o" if few else None, markersize=3, linewidth=1,
              alpha=1.0 if few else 0.35, label="loss (answer tokens)")
    axis.plot(steps, smooth, linewidth=2, label=f"running mean of {window}")
    axis.set_xlabel("optimizer step")
    axis.set_ylabel("cross-entropy")
    axis.set_title(title or "LoRA fine-tuning loss")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(png_path)
    plt.close(figure)
    return Path(png_path)


def main() -> None:
    parser = argparse.ArgumentParser(description="Plot a train_log.jsonl as a PNG.")
    parser.add_argument("log")
    parser.add_argument("png")
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    print(plot_loss(args.log, args.png, args.title))


if __name__ == "__main__":
    main()
