"""Progress in a log: plain lines at a known cadence, with position, shown values, rate and ETA."""

import io
import re

from transformrec.runtime.progress import LineProgress, progress


def test_a_loop_of_known_length_prints_a_line_every_5_percent_and_its_end():
    stream = io.StringIO()
    bar = LineProgress(total=100, desc="pretrain", stream=stream, interval=1e9)
    for step in range(1, 101):
        bar.set_postfix({"loss": f"{1 / step:.3f}"})
        bar.update(1)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 20  # every 5 steps; the last one is step 100 itself, not repeated by close()
    assert lines[0].startswith("pretrain: 5/100 (5.0 %) loss 0.200 | ")
    assert lines[-1].startswith("pretrain: 100/100 (100.0 %) loss 0.010 | ")
    assert re.search(r"\d+\.\d\d it/s \| elapsed \d+m\d\ds, ETA 0m00s$", lines[-1])


def test_a_resumed_loop_counts_from_where_it_was_and_closes_with_its_last_step():
    stream = io.StringIO()
    bar = LineProgress(total=100, initial=40, desc="gan", stream=stream, interval=1e9)
    for _ in range(8):
        bar.update(1)
    bar.close()
    # a line 5 steps after the resumed position, and the run's last step at close
    assert [line.split(" |")[0] for line in stream.getvalue().splitlines()] == [
        "gan: 45/100 (45.0 %)",
        "gan: 48/100 (48.0 %)",
    ]


def test_inner_loops_speak_only_on_the_time_interval():
    stream = io.StringIO()
    quiet = LineProgress(range(50), desc="features", leave=False, stream=stream, interval=1e9)
    assert list(quiet) == list(range(50)) and stream.getvalue() == ""
    quiet.close()
    assert stream.getvalue() == ""
    slow = LineProgress(range(3), desc="probes", leave=False, stream=stream, interval=0.0)
    list(slow)
    assert stream.getvalue().splitlines()[-1].startswith("probes: 3/3 (100.0 %)")


def test_the_factory_gives_lines_off_a_terminal_and_nothing_when_disabled(capsys):
    assert isinstance(progress(total=3, desc="x"), LineProgress)  # pytest's stderr is not a terminal
    silent = progress(range(3), desc="x", enabled=False)
    assert list(silent) == [0, 1, 2] and not isinstance(silent, LineProgress)
    assert capsys.readouterr().err == ""
