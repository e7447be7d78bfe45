"""The book's exercises: one module per chapter (`ch06.py`, ...) defines that chapter's exercises with
their reference solutions and checks; `Workbook(chapter)` is what the chapter's cells use.

    from lmcourse.exercises import Workbook
    exercises = Workbook(6)
    unfused_bytes = exercises.check("unfused_bytes", my_unfused_bytes)  # prints the verdict
    exercises.report()       # the report card
    exercises.solutions()    # every reference, collapsed
    exercises.warm_up()      # the questions a chapter opens with (lmcourse.exercises.study)
    exercises.quiz()         # the self-checking quiz it ends with

`compare.expect` is the comparison every check uses. The references live here, not in the chapter, so that no solution sits under its exercise in a
notebook; `tests/test_exercises.py` checks every exercise against a known-wrong answer.
"""

from lmcourse.exercises._core import (FAILED, NOT_ATTEMPTED, NOT_RUN, PASSED, Exercise, Outcome, Workbook,
                                      choice_exercise, function_exercise, value_exercise)
from lmcourse.exercises.compare import Mismatch, expect
from lmcourse.exercises.study import Question, choice, open_question

__all__ = [
    "Workbook", "Exercise", "Outcome", "Mismatch", "expect",
    "function_exercise", "value_exercise", "choice_exercise",
    "PASSED", "FAILED", "NOT_ATTEMPTED", "NOT_RUN", "Question", "choice", "open_question",
]
