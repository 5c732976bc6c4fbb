// The campaign form shows what applies: the date, the repeat and the sample only for "at a date
// and time" (the sample only when repeating); the subjects only for an e-mail. Switching between
// e-mail and SMS swaps a message still in its default wording for the other medium's default.
// Without JavaScript every field stays visible and the server checks the same rules.
(function () {
  "use strict";

  function update(form) {
    var at = form.querySelector("input[name=when][value=at]");
    var when = form.querySelector("[data-when-at]");
    var repeating = form.querySelector("[data-repeating]");
    var recurrence = form.querySelector("select[name=recurrence]");
    var medium = form.querySelector("select[name=medium]");
    if (at && when) { when.hidden = !at.checked; }
    if (repeating && recurrence) { repeating.hidden = recurrence.value === "once"; }
    if (medium) {
      form.querySelectorAll(".language .subject").forEach(function (el) { el.hidden = medium.value === "sms"; });
    }
  }

  function swapDefaults(form, from, to) {
    form.querySelectorAll("textarea[data-default-email]").forEach(function (area) {
      var before = area.getAttribute("data-default-" + from);
      if (before && area.value.replace(/\r\n/g, "\n").trim() === before.trim()) {
        area.value = area.getAttribute("data-default-" + to) || "";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.campaign-form");
    if (!form) { return; }
    var medium = form.querySelector("select[name=medium]");
    var current = medium ? medium.value : "email";
    update(form);
    form.addEventListener("change", function (event) {
      if (medium && event.target === medium && medium.value !== current) {
        swapDefaults(form, current, medium.value);
        current = medium.value;
      }
      update(form);
    });
  });
})();
