// Make the visible navigation buttons work (lmcourse_book.py adds this script to every page).
//
// sphinx-book-theme 1.3 draws its own header above each article, with the menu and "contents"
// buttons a reader sees, and hides pydata-sphinx-theme's header buttons. Both themes, though,
// wire their behaviour to document.querySelector(".primary-toggle") / (".secondary-toggle"):
// the FIRST match, which is the hidden pydata button. A click on a visible button therefore did
// nothing. We forward each click to the hidden twin, whose handlers do the real work: on a wide
// screen the book theme collapses or restores the chapter list; on a narrow one pydata opens the
// chapter list or the page's sections in a dialog.
(function () {
  function forward(kind) {
    var buttons = document.querySelectorAll("." + kind + "-toggle");
    if (buttons.length < 2) return;
    var wired = buttons[0]; // the one the themes listen to
    Array.prototype.slice.call(buttons, 1).forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        event.stopPropagation();
        wired.click();
      });
    });
  }
  function setup() {
    forward("primary");
    forward("secondary");
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
