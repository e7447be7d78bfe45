"""lmcourse.checks: one wording for every bad argument; TypeError for the wrong type, ValueError
for a value out of range; numpy scalars accepted where Python numbers are."""

import numpy as np
import pytest

from lmcourse import checks


def test_wording_names_function_argument_value_and_expectation():
    with pytest.raises(ValueError, match=r"^get_batch: batch_size=0; expected a positive integer$"):
        checks.positive_int("batch_size", 0, fn="get_batch")
    with pytest.raises(TypeError, match=r"^batch_size=2.0; expected a positive integer$"):
        checks.positive_int("batch_size", 2.0)
    with pytest.raises(TypeError, match="expected a positive integer"):
        checks.positive_int("n", True)  # a bool is not a count
    with pytest.raises(ValueError, match=r"^seed=-1; expected an integer >= 0$"):
        checks.integer("seed", -1, least=0)
    with pytest.raises(ValueError, match="expected a positive number"):
        checks.positive_number("x", float("inf"))
    with pytest.raises(ValueError, match=r"stage=4; expected one of \[1, 2, 3\]"):
        checks.choice("stage", 4, (1, 2, 3))
    with pytest.raises(ValueError, match=r"expected one of \['bf16', 'fp32'\]"):
        checks.choice("dtype", "fp8", {"fp32": 1, "bf16": 2})
    with pytest.raises(TypeError, match=r"^clean: text=b'x'; expected a str$"):
        checks.text("text", b"x", fn="clean")
    with pytest.raises(TypeError, match=r"\.\.\.; expected a str"):  # long values are cut
        checks.text("text", list(range(100)))


def test_good_values_come_back_as_python_numbers():
    assert checks.positive_int("n", np.int64(3)) == 3 and type(checks.positive_int("n", np.int64(3))) is int
    assert checks.integer("seed", -5) == -5
    assert checks.positive_number("lr", np.float32(0.5)) == 0.5
    assert checks.choice("c", "a", "abc") == "a" and checks.text("t", "") == ""


def test_no_private_copies_are_left():
    """The copies this module replaced must not come back."""
    from pathlib import Path
    import re

    root = Path(checks.__file__).parent
    copies = [f"{p.relative_to(root.parent)}: {m.group(0)}" for p in root.rglob("*.py")
              for m in re.finditer(r"def _(check_positive|positive_int|check_text|check_int|check_choice|check_count)\(",
                                   p.read_text())]
    assert not copies, copies
