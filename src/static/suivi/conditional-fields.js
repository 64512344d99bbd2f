// Show a form field only when another field has one of the listed values. The wrapper carries
// data-shown-if="<id of the controlling field>" and data-shown-values="<values>"; "+" means a
// number above zero. Hidden fields keep their value: nothing typed is lost.
(function () {
  function currentValues(controller) {
    if (controller.tagName === "SELECT" || controller.tagName === "INPUT") {
      return [controller.value];
    }
    // A group of checkboxes: its inputs share the group's id as prefix.
    return Array.from(controller.querySelectorAll("input:checked")).map(function (input) {
      return input.value;
    });
  }

  function matches(values, expected) {
    return values.some(function (value) {
      return expected.indexOf(value) !== -1 || (expected.indexOf("+") !== -1 && Number(value) > 0);
    });
  }

  function findController(id) {
    return document.getElementById(id) || document.querySelector('[id^="' + id + '_"]')?.closest("fieldset, div");
  }

  document.querySelectorAll("[data-shown-if]").forEach(function (wrapper) {
    var controllerId = wrapper.getAttribute("data-shown-if");
    var expected = wrapper.getAttribute("data-shown-values").split(" ");
    var controller = findController(controllerId);
    if (!controller) {
      return;
    }
    function update() {
      wrapper.hidden = !matches(currentValues(controller), expected);
    }
    var form = wrapper.closest("form");
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  });
})();
