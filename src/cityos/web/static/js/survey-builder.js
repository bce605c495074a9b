// The survey builder without a page of settings that do not apply: only the fields of the
// chosen kind of question are shown, and deleting asks first. Without this script every
// field is shown with a note saying which kind it is for, and the server ignores the others.
(function () {
  "use strict";
  var add = document.querySelector("form[data-question-builder]");
  if (add) {
    var update = function () {
      var checked = add.querySelector("input[name='type']:checked");
      var kind = checked ? checked.value : "";
      add.querySelectorAll("[data-for-types]").forEach(function (part) {
        part.hidden = part.getAttribute("data-for-types").split(" ").indexOf(kind) < 0;
      });
    };
    add.addEventListener("change", update);
    update();
  }
  document.querySelectorAll("button[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
})();
