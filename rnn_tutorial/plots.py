"""Plotting helpers for the notebooks (the unrolled RNN of notebooks 1-2, the charts of notebook 3): each
draws one figure, calls plt.show() and returns None, so a notebook cell shows the figure and nothing else."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyBboxPatch
from matplotlib.ticker import MaxNLocator


def bars(values: Mapping[str, float], title: str, ylabel: str, log: bool = False,
         highlight: str | None = None, figsize: tuple[float, float] = (9, 3.5)) -> None:
    """One bar per key, in the mapping's order; `highlight` colours one bar."""
    fig, ax = plt.subplots(figsize=figsize)
    colors = ["tab:red" if k == highlight else "tab:blue" for k in values]
    ax.bar(list(values), list(values.values()), color=colors)
    ax.set(title=title, ylabel=ylabel)
    if log:
        ax.set_yscale("log")
    ax.tick_params(axis="x", labelrotation=60)
    fig.tight_layout()
    plt.show()


def grouped_bars(groups: Mapping[str, Mapping[str, float]], title: str, ylabel: str,
                 figsize: tuple[float, float] = (10, 3.8)) -> None:
    """Bars side by side: `groups` maps a series name to {category: value}, same categories each."""
    categories = list(next(iter(groups.values())))
    width = 0.8 / len(groups)
    fig, ax = plt.subplots(figsize=figsize)
    for i, (series, values) in enumerate(groups.items()):
        x = np.arange(len(categories)) + (i - (len(groups) - 1) / 2) * width
        ax.bar(x, [values[c] for c in categories], width, label=series)
    ax.set_xticks(np.arange(len(categories)), categories, rotation=60)
    ax.set(title=title, ylabel=ylabel)
    ax.legend()
    fig.tight_layout()
    plt.show()


def histogram(values: Sequence[int], title: str, xlabel: str, figsize: tuple[float, float] = (7, 3)) -> None:
    """Counts of integer values, one bar per integer."""
    values = np.asarray(values)
    fig, ax = plt.subplots(figsize=figsize)
    ax.hist(values, bins=np.arange(values.min(), values.max() + 2) - 0.5, color="tab:blue")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(title=title, xlabel=xlabel, ylabel="count")
    fig.tight_layout()
    plt.show()


def curves(series: Mapping[str, Sequence[float]], title: str, xlabel: str, ylabel: str,
           x_step: float = 1, figsize: tuple[float, float] = (7, 3.5), x: Sequence[float] | None = None,
           references: Mapping[str, float] | None = None) -> None:
    """One line per series; point i sits at x = (i + 1) * x_step, or at x[i] when `x` is given.

    `references` draws a dashed horizontal line per entry (label -> y), in the colour of the series
    with the same position, for values to compare the curves with.
    """
    fig, ax = plt.subplots(figsize=figsize)
    lines = []
    for label, ys in series.items():
        xs = np.arange(1, len(ys) + 1) * x_step if x is None else np.asarray(x)
        lines += ax.plot(xs, ys, label=label)
    for i, (label, y) in enumerate((references or {}).items()):
        color = lines[i].get_color() if i < len(lines) else "gray"
        ax.axhline(y, color=color, linestyle="--", linewidth=1, label=label)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if len(series) + len(references or {}) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    plt.show()


def confusion(matrix: np.ndarray, labels: Sequence[str], title: str,
              figsize: tuple[float, float] = (7.5, 6.5)) -> None:
    """A row-normalised confusion matrix: row = true language, column = guess, cell = share of the row."""
    fig, ax = plt.subplots(figsize=figsize)
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(labels))
    ax.set_xticks(ticks, labels, rotation=90)
    ax.set_yticks(ticks, labels)
    ax.set(title=title, xlabel="predicted language", ylabel="true language")
    fig.colorbar(image, ax=ax, label="share of the true language's names")
    fig.tight_layout()
    plt.show()


def letter_heatmaps(rows: Mapping[str, np.ndarray], labels: Sequence[str], title: str,
                    figsize: tuple[float, float] = (11, 6)) -> None:
    """For each name, the model's answer after each prefix: `rows` maps name -> (len(name), n_labels)."""
    fig, axes = plt.subplots(1, len(rows), figsize=figsize, sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (name, probs) in zip(axes, rows.items()):
        image = ax.imshow(np.asarray(probs).T, cmap="viridis", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(np.arange(len(name)), list(name))
        ax.set(title=name, xlabel="letters read")
    axes[0].set_yticks(np.arange(len(labels)), labels)
    axes[0].set_ylabel("language")
    fig.colorbar(image, ax=list(axes), label="probability")
    fig.suptitle(title)
    plt.show()


def draw_unrolled(tokens: list[str], outputs: str = "last", title: str = "", figsize=(10, 4.2)) -> None:
    """Draw an RNN unrolled over `tokens`: X_t below, H_t in a row, W_xh up and W_hh across at every step.

    outputs: "last" draws O from the final state only, "every" an O above every H_t.
    """
    n = len(tokens)
    fig, ax = plt.subplots(figsize=figsize)
    box = dict(width=0.9, height=0.55)

    def node(x, y, text, face, edge):
        ax.add_patch(FancyBboxPatch((x - box["width"] / 2, y - box["height"] / 2), box["width"], box["height"],
                                    boxstyle="round,pad=0.04", facecolor=face, edgecolor=edge, linewidth=1.5))
        ax.text(x, y, text, ha="center", va="center", fontsize=12)

    def arrow(x0, y0, x1, y1, label, color, offset=(0.0, 0.0)):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color=color, lw=1.6, shrinkA=0, shrinkB=0))
        if label:
            ax.text((x0 + x1) / 2 + offset[0], (y0 + y1) / 2 + offset[1], label, color=color,
                    fontsize=10, ha="center", va="center",
                    bbox=dict(facecolor="white", edgecolor="none", pad=0.5))

    blue, orange, green, grey = "#1f77b4", "#d95f02", "#1b9e77", "#555555"
    step, y_x, y_h, y_o = 1.6, 0.0, 1.5, 3.0
    node(0, y_h, "$H_0 = 0$", "#eeeeee", grey)
    for t, token in enumerate(tokens, start=1):
        x = t * step
        node(x, y_x, f"$X_{{{t}}}$\n'{token}'", "#dcebf7", blue)
        node(x, y_h, f"$H_{{{t}}}$", "#fde4d0", orange)
        arrow(x, y_x + 0.32, x, y_h - 0.32, "$W_{xh}$", blue, offset=(0.0, 0.0))
        arrow(x - step + 0.48, y_h, x - 0.48, y_h, "$W_{hh}$", orange, offset=(0.0, 0.28))
        if outputs == "every" or t == n:
            node(x, y_o, f"$O_{{{t}}}$", "#d8f0e8", green)
            arrow(x, y_h + 0.32, x, y_o - 0.32, "$W_{hq}$", green)
        ax.text(x, y_x - 0.62, f"t = {t}", ha="center", va="center", fontsize=9, color=grey)
    ax.set_xlim(-0.7, n * step + 0.7)
    ax.set_ylim(-0.95, y_o + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=12)
    fig.tight_layout()
    plt.show()
