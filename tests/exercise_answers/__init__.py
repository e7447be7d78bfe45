"""Known-wrong answers for every exercise, one module per chapter (`WRONG`: name -> answer; `CONTEXT`:
name -> keyword arguments, or a function making them, that the chapter passes to `check`).
`tests/test_exercises.py` asserts each one fails. A wrong answer is a mistake a reader could make
(an off-by-one, a forgotten term), not random noise, so the check is shown to catch real errors."""
