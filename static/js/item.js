// The item page: the customer's scores-over-time chart, and canned replies dropped into the box.
(function () {
  "use strict";
  function drawCharts() {
    if (!window.Plotly) return;
    document.querySelectorAll("[data-figure]").forEach(function (el) {
      var figure = JSON.parse(el.dataset.figure);
      window.Plotly.newPlot(el, figure.data, figure.layout, { displayModeBar: false, responsive: true });
    });
  }
  window.addEventListener("load", drawCharts);
  document.body.addEventListener("htmx:afterSwap", drawCharts);

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
