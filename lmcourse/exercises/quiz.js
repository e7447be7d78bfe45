// Checks the book's quizzes in the reader's browser (see lmcourse/exercises/study.py): picking an
// option says at once whether it is right, with why, and the score line counts the right picks.
(function () {
  function mount(root) {
    if (root.dataset.mounted) return;
    root.dataset.mounted = "1";
    var questions = root.querySelectorAll("fieldset[data-answer]");
    var score = root.querySelector(".lmcourse-quiz-score");
    function updateScore() {
      var right = root.querySelectorAll(".lmcourse-quiz-feedback.right").length;
      var tried = root.querySelectorAll(".lmcourse-quiz-feedback.right, .lmcourse-quiz-feedback.wrong").length;
      if (score) score.textContent = tried ? right + " of " + questions.length + " right" : "";
    }
    questions.forEach(function (fieldset) {
      var out = fieldset.querySelector(".lmcourse-quiz-feedback");
      fieldset.addEventListener("change", function (event) {
        var pick = event.target.value;
        if (pick === fieldset.dataset.answer) {
          out.textContent = "\u2713 Right. " + fieldset.dataset.why;
          out.className = "lmcourse-quiz-feedback right";
        } else {
          out.textContent = "\u2717 Not (" + pick + "). Try another option.";
          out.className = "lmcourse-quiz-feedback wrong";
        }
        updateScore();
      });
    });
  }
  document.querySelectorAll(".lmcourse-quiz:not([data-mounted])").forEach(mount);
})();
