"""engine.apps.training.fit: the one loop every training recipe runs."""

from __future__ import annotations

import pytest

from engine.apps import training


def run_fit(epochs: int, **options) -> tuple[dict, list[str]]:
    lines: list[str] = []
    losses = iter(range(100, 0, -1))
    history = training.fit(lambda: float(next(losses)), epochs, "test", lambda i, loss: f"{i}:{loss:g}",
                           progress=False, log=lines.append, **options)
    return history, lines


def test_fit_returns_each_epochs_loss_and_logs_first_every_tenth_and_last():
    history, lines = run_fit(25)
    assert history == {"loss": [float(x) for x in range(100, 75, -1)]}
    assert lines == ["0:100", "2:98", "4:96", "6:94", "8:92", "10:90", "12:88", "14:86", "16:84", "18:82",
                     "20:80", "22:78", "24:76"]


def test_fit_logs_where_log_at_says_and_not_at_all_without_a_log():
    _, lines = run_fit(5, log_at=lambda i: i == 3)
    assert lines == ["3:97"]
    history = training.fit(lambda: 1.0, 3, "quiet", lambda i, loss: "never", progress=False, log=None)
    assert history == {"loss": [1.0, 1.0, 1.0]}


def test_fit_shows_a_progress_bar_on_stderr_and_the_log_on_stdout(capsys):
    training.fit(lambda: 0.5, 3, "bar", lambda i, loss: f"epoch {i}", progress=True)
    out, err = capsys.readouterr()
    assert out.splitlines() == ["epoch 0", "epoch 1", "epoch 2"]
    assert "bar:" in err and "%|" in err  # tqdm draws "bar:   0%|..." at the start


@pytest.mark.parametrize("task", sorted(training.TASKS))
def test_every_recipe_runs_the_shared_loop(task, monkeypatch):
    calls = []
    real_fit = training.fit

    def spy(*args, **kwargs):
        calls.append(args[2])
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(training, "fit", spy)
    history = training.TASKS[task](epochs=2, device="numpy", progress=False, log=None)
    assert calls == [task]
    assert len(history["loss"]) == 2 and callable(history["predict"])
