// /settings/branding/: the colour picker and the hex text field show the same colour; a change in
// either is announced as an input on the text field, which the server-drawn sample follows (htmx).
(function () {
  "use strict";

  var HEX = /^#[0-9a-fA-F]{6}$/;

  document.addEventListener("input", function (event) {
    var picker = document.querySelector("[data-brand-picker]");
    var text = document.querySelector("[data-brand-hex]");
    if (!picker || !text) { return; }
    if (event.target === picker) {
      text.value = picker.value;
      text.dispatchEvent(new Event("input", {bubbles: true}));
    } else if (event.target === text && HEX.test(text.value.trim())) {
      picker.value = text.value.trim().toLowerCase();
    }
  });
})();
