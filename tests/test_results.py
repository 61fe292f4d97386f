import matplotlib.image
import numpy as np

from tfcdr import results


def _width(path):
    return matplotlib.image.imread(path).shape[1]


def test_history_plot_gains_a_weights_panel_only_when_weights_are_logged(tmp_path):
    history = {"loss": [1.0, 0.5], "a_loss": [0.6, 0.3], "val_a_hr@10": [0.2, 0.3]}
    results.plot_history(history, tmp_path / "plain.png")
    results.plot_history({**history, "a_weight": [1.0, 1.2], "b_weight": [1.0, 0.8]}, tmp_path / "weights.png")
    assert _width(tmp_path / "weights.png") > _width(tmp_path / "plain.png")


def test_sweep_plot_places_numeric_values_on_a_numeric_axis(tmp_path, monkeypatch):
    import pandas as pd

    board = pd.DataFrame(
        {
            "model": ["p=0.2", "p=0.8", "p=0.2", "p=0.8"],
            "domain": ["a", "a", "b", "b"],
            "metric": ["hr@10"] * 4,
            "mean": [0.1, 0.4, 0.2, 0.3],
            "std": [0.01, 0.02, np.nan, 0.0],
            "count": [2, 2, 1, 1],
        }
    )
    drawn = []
    real = results.plt.Axes.errorbar

    def spy(axis, x, y, **kwargs):
        drawn.append((list(np.asarray(x)), list(np.asarray(y))))
        return real(axis, x, y, **kwargs)

    monkeypatch.setattr(results.plt.Axes, "errorbar", spy)
    results.plot_sweep(board, ["p=0.2", "p=0.8"], [0.2, 0.8], "hr@10", tmp_path / "s.png")
    assert drawn == [([0.2, 0.8], [0.1, 0.4]), ([0.2, 0.8], [0.2, 0.3])]
    results.plot_sweep(board, ["p=0.2", "p=0.8"], [[1], [1, 2]], "hr@10", tmp_path / "t.png")
    assert drawn[-1][0] == [0, 1]


def test_leaderboard_shows_spread_only_when_there_are_seeds_to_spread_over():
    runs = [
        {"model": "a", "seed": s, "metrics": {"t": {"hr@10": v, "users": 3}}} for s, v in ((0, 0.25), (1, 0.35))
    ] + [{"model": "b", "seed": 0, "metrics": {"t": {"hr@10": 0.5, "users": 3}}}]
    text = results.format_leaderboard(results.leaderboard(runs), ["hr@10"])
    assert "| t | a | 0.3000 ± 0.0707 |" in text and "| t | b | 0.5000 |" in text
    single = results.format_leaderboard(results.leaderboard(runs[2:]), ["hr@10"])
    assert single.endswith("one seed") and "±" not in single


def test_curves_average_each_models_seeds_over_the_epochs_any_reached(tmp_path, monkeypatch):
    import pytest

    from tfcdr.errors import DataError

    runs = [
        {"model": "a", "seed": 0, "history": {"x_loss": [4.0, 2.0, 1.0]}},
        {"model": "a", "seed": 1, "history": {"x_loss": [2.0, 1.0]}},
        {"model": "b", "seed": 0, "history": {"x_loss": [3.0]}},
    ]
    drawn = []
    real = results.plt.Axes.plot

    def spy(axis, x, y, *args, **kwargs):
        if "label" in kwargs:
            drawn.append((kwargs["label"], list(np.asarray(x)), list(np.asarray(y))))
        return real(axis, x, y, *args, **kwargs)

    monkeypatch.setattr(results.plt.Axes, "plot", spy)
    results.plot_curves(runs, ["x_loss"], tmp_path / "c.png")
    assert drawn == [("a", [1, 2, 3], [3.0, 1.5, 1.0]), ("b", [1], [3.0])]
    assert (tmp_path / "c.png").stat().st_size > 0
    with pytest.raises(DataError, match=r"no run logged \['y_loss'\]; logged keys: \['x_loss'\]"):
        results.plot_curves(runs, ["y_loss"], tmp_path / "d.png")


def test_sweep_values_come_from_the_run_labels_and_other_runs_are_refused():
    import pytest

    from tfcdr.errors import DataError

    runs = [{"model": m} for m in ("h=[1]", "h=[1]", "h=[1, 2]")]
    assert results.sweep_values(runs) == (["h=[1]", "h=[1, 2]"], [[1], [1, 2]])
    with pytest.raises(DataError, match="not the runs of one sweep"):
        results.sweep_values([{"model": "h=1"}, {"model": "mlp"}])
    with pytest.raises(DataError, match="not JSON"):
        results.sweep_values([{"model": "h=oops"}])


def test_sweep_plot_draws_a_panel_per_metric(tmp_path):
    import pandas as pd

    board = pd.DataFrame(
        {
            "model": ["p=1", "p=2"] * 2,
            "domain": ["a"] * 4,
            "metric": ["hr@10", "hr@10", "ndcg@10", "ndcg@10"],
            "mean": [0.1, 0.2, 0.05, 0.1],
            "std": [0.0] * 4,
            "count": [1] * 4,
        }
    )
    results.plot_sweep(board, ["p=1", "p=2"], [1, 2], "hr@10", tmp_path / "one.png")
    results.plot_sweep(board, ["p=1", "p=2"], [1, 2], ["hr@10", "ndcg@10"], tmp_path / "two.png")
    assert _width(tmp_path / "two.png") == 2 * _width(tmp_path / "one.png")
