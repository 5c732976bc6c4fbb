// What every signed-in page shares, wired by data-attributes: the Content-Security-Policy lets
// scripts come only from our static files, so templates carry no <script> bodies and no
// on…= attributes (ADR 0009). Listeners sit on the document, so content htmx swaps in later
// behaves the same without being wired again.
(function () {
  "use strict";

  // <form data-confirm="Delete it?">: ask before a destructive submit. Capture phase, so a
  // "no" stops the submit before any other handler sees it.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // <select data-autosubmit>: choosing an option submits its form (organization, language);
  // the form's <noscript> button does it without JavaScript.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.form && el.hasAttribute && el.hasAttribute("data-autosubmit")) {
      if (el.form.requestSubmit) { el.form.requestSubmit(); } else { el.form.submit(); }
    }
  });

  // [data-select-on-click]: one click selects a whole link or embed snippet, ready to copy.
  document.addEventListener("click", function (event) {
    var el = event.target.closest && event.target.closest("[data-select-on-click]");
    if (el && el.select) { el.select(); }
  });

  // Charts: <div class="chart" data-figure="{plotly figure spec}"> is drawn with the plotly.js
  // the page loads. Plotly draws into a child .plot: htmx's settle step resets the attributes of
  // an element with an id, which would strip the classes plotly puts on its graph. A chart of
  // class "drill" opens the URL each point carries in customdata [n, url] when clicked.
  var drawn = new WeakMap(); // element → the spec last drawn, so a chart is never drawn twice

  function draw(el) {
    var spec = el.dataset.figure;
    if (!spec || drawn.get(el) === spec) { return; }
    drawn.set(el, spec);
    var figure = JSON.parse(spec);
    var plot = el.querySelector(":scope > .plot");
    if (!plot) { plot = document.createElement("div"); plot.className = "plot"; el.replaceChildren(plot); }
    var config = {responsive: true, displayModeBar: false};
    if (figure.locale) {
      // The reader's month names and date formats (plotly.js ships no Russian or Latvian locale).
      window.Plotly.register({moduleType: "locale", name: figure.locale.name, dictionary: {},
                              format: figure.locale.format});
      config.locale = figure.locale.name;
    }
    window.Plotly.react(plot, figure.data, figure.layout, config);
    if (el.classList.contains("drill") && !plot.dataset.drillBound) {
      plot.dataset.drillBound = "1";
      plot.on("plotly_click", function (click) {
        var point = click.points && click.points[0];
        var url = point && Array.isArray(point.customdata) && point.customdata[1];
        if (url) { window.location.href = url; }
      });
    }
  }

  function drawCharts(root) {
    if (!root.querySelectorAll) { return; }
    var charts = Array.prototype.slice.call(root.querySelectorAll("[data-figure]"));
    if (root.matches && root.matches("[data-figure]")) { charts.unshift(root); }
    if (!charts.length) { return; }
    if (!window.Plotly) {
      // A page with a chart must load plotly.js before this file; say so rather than draw nothing.
      console.error("Charts on this page, but plotly.js is not loaded");
      return;
    }
    charts.forEach(draw);
  }

  drawCharts(document); // deferred: the document is parsed, plotly.js (deferred before us) has run
  // Every piece of content htmx swaps in (the dashboard's filters, a map's live figures, …).
  document.addEventListener("htmx:load", function (event) { drawCharts(event.target); });
})();
