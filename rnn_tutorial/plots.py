"""Plotting helpers for the notebooks (notebook 3 introduces them): each draws one figure, calls
plt.show() and returns None, so a notebook cell shows the figure and nothing else."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
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
           x_step: float = 1, figsize: tuple[float, float] = (7, 3.5)) -> None:
    """One line per series; point i sits at x = (i + 1) * x_step."""
    fig, ax = plt.subplots(figsize=figsize)
    for label, ys in series.items():
        ax.plot(np.arange(1, len(ys) + 1) * x_step, ys, label=label)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if len(series) > 1:
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
    """For each name, P(language | letters so far): `rows` maps name -> (len(name), n_labels)."""
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
