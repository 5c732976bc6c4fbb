// Draw every chart of the page from its plotly figure spec (data-figure), once plotly.js is loaded.
(function draw() {
  if (!window.Plotly) { return setTimeout(draw, 50); }
  document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
    var fig = JSON.parse(el.dataset.figure);
    var plot = el.querySelector(".plot");
    if (!plot) { plot = document.createElement("div"); plot.className = "plot"; el.replaceChildren(plot); }
    Plotly.react(plot, fig.data, fig.layout, {responsive: true, displayModeBar: false});
  });
})();
