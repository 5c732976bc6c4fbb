// The item page: canned replies dropped into the box. (The customer's scores-over-time chart is
// drawn by app.js, like every chart.)
(function () {
  "use strict";
  var canned = document.getElementById("canned");
  var box = document.getElementById("id_reply_text");
  if (canned && box) canned.addEventListener("change", function () {
    if (!canned.value) return;
    fetch(canned.value, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (text) {
        if (!text) return;
        box.value = box.value.trim() ? box.value.replace(/\s*$/, "\n\n") + text : text;
        box.focus();
        canned.value = "";
      });
  });
})();
