"""The plotting helpers of the notebooks: each draws one figure, shows it and returns None."""
from __future__ import annotations

import numpy as np


def test_plot_helpers_draw_one_figure_and_return_none(monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rnn_tutorial import plots
    shown = []
    monkeypatch.setattr(plt, "show", lambda: (shown.append(len(plt.get_fignums())), plt.close("all")))
    calls = [
        lambda: plots.bars({"a": 1, "b": 100}, title="t", ylabel="y", log=True, highlight="b"),
        lambda: plots.grouped_bars({"s1": {"a": 1, "b": 2}, "s2": {"a": 2, "b": 1}}, title="t", ylabel="y"),
        lambda: plots.histogram([3, 4, 4, 5], title="t", xlabel="x"),
        lambda: plots.curves({"loss": [3.0, 2.0, 1.0]}, title="t", xlabel="x", ylabel="y", x_step=1000),
        lambda: plots.curves({"a": [0.8, 0.7], "b": [0.4, 0.5]}, title="t", xlabel="x", ylabel="y",
                             x=[0.0, 1.0], references={"ref a": 0.75, "ref b": 0.45}),
        lambda: plots.confusion(np.eye(3), ["a", "b", "c"], title="t"),
        lambda: plots.letter_heatmaps({"Li": np.full((2, 3), 1 / 3)}, ["a", "b", "c"], title="t"),
    ]
    assert all(call() is None for call in calls)
    assert shown == [1] * len(calls)
