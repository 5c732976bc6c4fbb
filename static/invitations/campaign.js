// The campaign form shows the date, the repeat and the sample only when they apply: "at a date
// and time" shows the date and the repeat, a repeating campaign its sample per run. Without
// JavaScript every field stays visible and the server checks the same rules.
(function () {
  "use strict";

  function update(form) {
    var at = form.querySelector("input[name=when][value=at]");
    var when = form.querySelector("[data-when-at]");
    var repeating = form.querySelector("[data-repeating]");
    var recurrence = form.querySelector("select[name=recurrence]");
    if (!at || !when) { return; }
    when.hidden = !at.checked;
    if (repeating && recurrence) { repeating.hidden = recurrence.value === "once"; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.campaign-form");
    if (!form) { return; }
    update(form);
    form.addEventListener("change", function () { update(form); });
  });
})();
