// Draws the dashboards' charts from the JSON the page embeds with json_script
// (id "analytics-charts"): a list of {canvas, type, labels, datasets, ...options}.
(function () {
  "use strict";
  var PALETTE = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#dc3545",
    "#0dcaf0", "#ffc107", "#6c757d", "#d63384", "#343a40"];
  var language = document.documentElement.lang || undefined;
  var percent = new Intl.NumberFormat(language, { style: "percent", maximumFractionDigits: 0 });
  var number = new Intl.NumberFormat(language);

  function colour(index, alpha) {
    var hex = PALETTE[index % PALETTE.length];
    if (alpha === undefined) return hex;
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function styleDatasets(spec) {
    spec.datasets.forEach(function (dataset, index) {
      if (spec.type === "doughnut") {
        dataset.backgroundColor = dataset.data.map(function (_value, i) { return colour(i); });
        return;
      }
      var kind = dataset.type || spec.type;
      dataset.borderColor = colour(index);
      dataset.backgroundColor = kind === "line" ? colour(index, 0.15) : colour(index, 0.75);
      if (kind === "line") { dataset.tension = 0.2; dataset.pointRadius = spec.xy ? 0 : 3; }
      if (spec.xy) dataset.fill = true;
    });
  }

  function scales(spec) {
    if (spec.type === "doughnut") return {};
    var value = {
      beginAtZero: true,
      ticks: { callback: function (v) { return spec.percent ? percent.format(v) : number.format(v); } },
    };
    var category = { stacked: !!spec.stacked, ticks: { autoSkip: true, maxRotation: 45 } };
    if (spec.xy) {
      category = { type: "linear", min: 0, max: 1, title: { display: !!spec.x_label, text: spec.x_label },
        ticks: { callback: function (v) { return percent.format(v); } } };
      value.max = 1;
    }
    value.stacked = !!spec.stacked;
    return spec.horizontal ? { x: value, y: category } : { x: category, y: value };
  }

  function tooltip(spec) {
    return {
      callbacks: {
        label: function (item) {
          var v = spec.xy ? item.parsed.y : (spec.horizontal ? item.parsed.x : item.parsed);
          if (typeof v === "object") v = v.y;
          if (spec.type === "doughnut") return item.label + ": " + number.format(item.parsed) + "%";
          return (item.dataset.label ? item.dataset.label + ": " : "") +
            (spec.percent ? percent.format(v) : number.format(v));
        },
      },
    };
  }

  function draw(spec) {
    var canvas = document.getElementById(spec.canvas);
    if (!canvas) return;
    styleDatasets(spec);
    new window.Chart(canvas, {
      type: spec.type === "doughnut" ? "doughnut" : spec.type,
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        animation: false,
        scales: scales(spec),
        plugins: {
          legend: { display: spec.datasets.length > 1 || spec.type === "doughnut", position: "bottom" },
          tooltip: tooltip(spec),
        },
      },
    });
  }

  function start() {
    var source = document.getElementById("analytics-charts");
    if (!source || !window.Chart) return;
    JSON.parse(source.textContent).forEach(draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
