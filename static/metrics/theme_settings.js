// The themes settings page (/metrics/themes/settings/). A refused edit answers 422 with the
// unchanged list and the reason; htmx swaps only 2xx answers unless told, and the person must
// see why nothing changed.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422 && event.detail.target && event.detail.target.id === "theme-settings") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var message = document.getElementById("theme-settings-error");
    if (message && event.detail.target && event.detail.target.id === "theme-settings") {
      message.scrollIntoView({block: "nearest"});
    }
  });
})();
