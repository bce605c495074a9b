// Conditional survey questions: a question with data-show-if is shown only while the
// earlier question it names has one of the data-equals answers. Without this script every
// question is shown with a note, and the server checks the same rule.
(function () {
  "use strict";
  var form = document.querySelector("form[data-survey]");
  if (!form) return;
  var dependents = form.querySelectorAll("fieldset[data-show-if]");
  function chosen(name) {
    var values = [];
    form.querySelectorAll("input[name='" + name + "']:checked").forEach(function (input) {
      values.push(input.value);
    });
    return values;
  }
  function update() {
    dependents.forEach(function (fieldset) {
      var wanted = JSON.parse(fieldset.getAttribute("data-equals"));
      var given = chosen(fieldset.getAttribute("data-show-if"));
      var source = form.querySelector("#question-" + fieldset.getAttribute("data-show-if"));
      var shown = !(source && source.hidden) && given.some(function (v) { return wanted.indexOf(v) >= 0; });
      fieldset.hidden = !shown;
      if (!shown) {
        fieldset.querySelectorAll("input").forEach(function (input) { input.checked = false; });
        fieldset.querySelectorAll("textarea").forEach(function (area) { area.value = ""; });
      }
    });
  }
  form.addEventListener("change", update);
  update();
})();
