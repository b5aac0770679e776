/* The unit pickers of the case page: typing in the filter box hides the units whose name and code
   do not contain what was typed (a chosen unit stays shown). Without scripts the box stays hidden
   and the whole list scrolls. */
(function () {
  "use strict";
  document.querySelectorAll("[data-picker]").forEach(function (box) {
    if (box.dataset.ready) return;  // the page loads this once per picker
    box.dataset.ready = "1";
    var filter = box.querySelector(".picker-filter");
    var options = Array.prototype.slice.call(box.querySelectorAll("label.option"));
    var none = box.querySelector(".picker-none");
    filter.hidden = false;
    filter.addEventListener("input", function () {
      var wanted = filter.value.trim().toLowerCase();
      var shown = 0;
      options.forEach(function (option) {
        var keep = !wanted || option.querySelector("input").checked ||
          option.textContent.toLowerCase().indexOf(wanted) >= 0;
        option.hidden = !keep;
        if (keep) shown += 1;
      });
      none.hidden = shown > 0;
    });
  });
})();
