// Show a form field only when other fields have some values. The wrapper carries
// data-shown-when="<field id>=<value> <value>;<field id>=<value>": every condition must hold,
// and "+" stands for a number above zero. Hidden fields keep their value: nothing typed is lost.
(function () {
  function currentValues(id) {
    var element = document.getElementById(id);
    if (element && (element.tagName === "SELECT" || element.type === "text" || element.type === "number" || element.type === "date")) {
      return [element.value];
    }
    // Radio buttons and checkboxes: Django numbers them <id>_0, <id>_1...
    return Array.from(document.querySelectorAll('input[id^="' + id + '_"]:checked, input#' + id + ":checked")).map(function (input) {
      return input.value;
    });
  }

  function holds(condition) {
    var parts = condition.split("=");
    var expected = parts[1].split(" ");
    return currentValues(parts[0]).some(function (value) {
      return expected.indexOf(value) !== -1 || (expected.indexOf("+") !== -1 && Number(value) > 0);
    });
  }

  var wrappers = document.querySelectorAll("[data-shown-when]");
  function update() {
    wrappers.forEach(function (wrapper) {
      wrapper.hidden = !wrapper.getAttribute("data-shown-when").split(";").every(holds);
    });
  }
  document.addEventListener("change", update);
  document.addEventListener("input", update);
  update();
})();
