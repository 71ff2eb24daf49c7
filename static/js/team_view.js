// The manager's team view (home page): draws the forecast-against-quota chart from the
// JSON the panel embeds (id "team-chart-data"); a click on a bar opens the deals behind it.
(function () {
  "use strict";
  var COLOURS = ["rgba(25,135,84,0.8)", "rgba(13,110,253,0.6)", "#dc3545"];
  var language = document.documentElement.lang || undefined;
  var number = new Intl.NumberFormat(language, { maximumFractionDigits: 0 });
  var chart = null;

  function draw() {
    var source = document.getElementById("team-chart-data");
    var canvas = document.getElementById("team-chart");
    if (!source || !canvas || !window.Chart) return;
    var spec = JSON.parse(source.textContent);
    spec.datasets.forEach(function (dataset, index) {
      dataset.backgroundColor = COLOURS[index];
      dataset.borderColor = COLOURS[index];
      if (dataset.type === "line") { dataset.showLine = false; dataset.pointStyle = "line"; dataset.pointRadius = 18; dataset.borderWidth = 3; }
      // The quota marker on top of the bars: drawn under the translucent blue it read as
      // purple, not the legend's red. A lower order is drawn later (and listed first).
      dataset.order = dataset.type === "line" ? 0 : 1;
    });
    if (chart) chart.destroy();
    chart = new window.Chart(canvas, {
      type: "bar",
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true,
          ticks: { callback: function (v) { return number.format(v); } } } },
        plugins: { legend: { position: "bottom" } },
        onHover: function (event, elements) {
          var link = elements.length && spec.links[elements[0].datasetIndex][elements[0].index];
          event.native.target.style.cursor = link ? "pointer" : "default";
        },
        onClick: function (_event, elements) {
          if (!elements.length) return;
          var link = spec.links[elements[0].datasetIndex][elements[0].index];
          if (link) window.location.assign(link);
        },
      },
    });
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.querySelector && event.target.querySelector("#team-chart-data")) draw();
    else if (event.target && event.target.id === "team-view") draw();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
