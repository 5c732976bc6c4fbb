// /settings/tokens/: the "Copy" button next to a token shown once. The clipboard API needs a
// secure context (HTTPS or localhost); elsewhere the text is selected for the person to copy.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy-from]");
    if (!button) { return; }
    var field = document.getElementById(button.dataset.copyFrom);
    if (!field) { return; }
    field.focus();
    field.select();
    var done = function () { button.textContent = button.dataset.copiedText || button.textContent; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy") && done(); });
    } else if (document.execCommand("copy")) {
      done();
    }
  });
})();
