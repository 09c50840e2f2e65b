"""Myokit protocol files → membrax step protocols."""

import importlib.util

import numpy as np
import pytest

from membrax.io import load_myokit_protocol

MMT = """[[model]]
name: toy

[engine]
time = 0 [ms]
    bind time
pace = 0
    bind pace

[[protocol]]
# Level  Start    Length   Period   Multiplier
-80      0        100      0        0
20       next     500      0        0
-120     next     50       0        0
-60      1000     10       100      3

[[script]]
print('not part of the protocol')
"""

# The command the protocol above describes, by hand: (level, from, to) in ms; 0 in the gaps
# (Myokit's pacing value when no event is active).
EXPECTED = [
    (-80, 0, 100),
    (20, 100, 600),
    (-120, 600, 650),
    (0, 650, 1000),
    (-60, 1000, 1010),
    (0, 1010, 1100),
    (-60, 1100, 1110),
    (0, 1110, 1200),
    (-60, 1200, 1210),
]


def _level(t):
    for level, start, stop in EXPECTED:
        if start <= t < stop:
            return level
    raise AssertionError(t)


def test_mmt_protocol_section_becomes_steps(tmp_path):
    path = tmp_path / "toy.mmt"
    path.write_text(MMT)
    protocol = load_myokit_protocol(path, dt=0.5)
    np.testing.assert_array_equal(np.asarray(protocol.starts), [e[1] for e in EXPECTED])
    np.testing.assert_array_equal(np.asarray(protocol.offsets), [e[0] for e in EXPECTED])
    assert float(protocol.t_end) == 1210.0
    times = np.arange(0.0, 1210.0, 0.5)
    np.testing.assert_array_equal(np.asarray(protocol.voltage(times)), [_level(t) for t in times])
    # The same from the text, and from a str path.
    assert float(load_myokit_protocol(MMT, dt=0.5).t_end) == 1210.0
    assert float(load_myokit_protocol(str(path), dt=0.5).t_end) == 1210.0
    if importlib.util.find_spec("myokit") is not None:  # an independent reader, if present
        import myokit

        section = "[[protocol]]" + MMT.split("[[script]]")[0].split("[[protocol]]")[1]
        reference = myokit.parse_protocol(section)
        inside = times[(times % 10) > 1e-9]  # away from the edges
        np.testing.assert_array_equal(
            np.asarray(protocol.voltage(inside)), reference.value_at_times(list(inside))
        )


def test_forever_repeating_events_need_t1_and_are_cut_there():
    text = "-20 5 2 10 0\n"
    with pytest.raises(ValueError, match=r"repeats forever .* give t1="):
        load_myokit_protocol(text, dt=0.1)
    protocol = load_myokit_protocol(text, dt=0.1, t1=26.0, gap_level=-80.0)
    # Pulses at 5, 15, 25 (the last cut at 26): 8 segments including the gaps at -80 mV.
    np.testing.assert_allclose(np.asarray(protocol.starts), [0, 5, 7, 15, 17, 25])
    np.testing.assert_allclose(np.asarray(protocol.offsets), [-80, -20, -80, -20, -80, -20])
    assert float(protocol.t_end) == 26.0
    assert protocol.n_samples == 260


def test_malformed_protocols_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"does not exist"):
        load_myokit_protocol(tmp_path / "missing.mmt", dt=0.1)
    with pytest.raises(ValueError, match=r"line 2: '20 next 500' has 3 fields"):
        load_myokit_protocol("-80 0 100 0 0\n20 next 500\n", dt=0.1)
    with pytest.raises(ValueError, match=r"line 1: duration must be > 0 ms, got '-5'"):
        load_myokit_protocol("-80 0 -5 0 0\n", dt=0.1)
    with pytest.raises(ValueError, match=r"level 'abc' is not a number"):
        load_myokit_protocol("abc 0 5 0 0\n", dt=0.1)
    with pytest.raises(ValueError, match=r"lines 1 and 2 overlap"):
        load_myokit_protocol("-80 0 100 0 0\n20 50 10 0 0\n", dt=0.1)
    with pytest.raises(ValueError, match=r"line 2: 'next' follows a periodic event"):
        load_myokit_protocol("-20 0 2 10 3\n0 next 5 0 0\n", dt=0.1)
    with pytest.raises(ValueError, match=r"needs a period > 0"):
        load_myokit_protocol("-80 0 10 0 3\n", dt=0.1)
    with pytest.raises(ValueError, match=r"no \[\[protocol\]\]"):
        load_myokit_protocol("[[model]]\nx = 1\n", dt=0.1)
    with pytest.raises(ValueError, match=r"has no events"):
        load_myokit_protocol("[[protocol]]\n# nothing\n", dt=0.1)


def test_myokit_steptrain_text():
    # What myokit.pacing.steptrain([-100, 0, 40], vhold=-80, tpre=100, tstep=50, tpost=20)
    # writes (Myokit 1.39): per step, 100 ms at -80, 50 ms at the step, 20 ms at -80.
    text = """[[protocol]]
# Level  Start    Length   Period   Multiplier
-80.0    0.0      100.0    0.0      0
-100.0   100.0    50.0     0.0      0
-80.0    150.0    20.0     0.0      0
-80.0    170.0    100.0    0.0      0
0.0      270.0    50.0     0.0      0
-80.0    320.0    20.0     0.0      0
-80.0    340.0    100.0    0.0      0
40.0     440.0    50.0     0.0      0
-80.0    490.0    20.0     0.0      0
"""
    protocol = load_myokit_protocol(text, dt=0.25)
    np.testing.assert_array_equal(np.asarray(protocol.starts), [0, 100, 150, 270, 320, 440, 490])
    np.testing.assert_array_equal(np.asarray(protocol.offsets), [-80, -100, -80, 0, -80, 40, -80])
    assert float(protocol.t_end) == 510.0 and protocol.n_samples == 2040
    if importlib.util.find_spec("myokit") is not None:  # the same text from Myokit itself
        import myokit.pacing

        generated = myokit.pacing.steptrain([-100, 0, 40], -80, 100, 50, 20).code()
        again = load_myokit_protocol(generated, dt=0.25)
        for name in ("starts", "offsets", "t_end"):
            np.testing.assert_array_equal(
                np.asarray(getattr(again, name)), np.asarray(getattr(protocol, name))
            )
