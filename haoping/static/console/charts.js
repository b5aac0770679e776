/* The indicator pages' charts (ECharts): the trend, the level distribution and the channel mix,
   drawn from the page's #chart-data; the series' names come from the elements' data attributes,
   so that they stay translated. Every chart follows its box's width (a phone turned, a window
   resized). */
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var charts = [];

  function draw(id, option) {
    var box = document.getElementById(id);
    if (!box) return;
    var chart = window.echarts.init(box);
    chart.setOption(option);
    charts.push(chart);
  }

  var trend = document.getElementById("trend");
  if (trend) {
    var ratings = trend.dataset.ratings, goodRate = trend.dataset.goodRate;
    draw("trend", {
      animation: false,
      tooltip: {trigger: "axis"},
      legend: {data: [ratings, goodRate]},
      grid: {left: 40, right: 40, top: 40, bottom: 30, containLabel: true},
      xAxis: {type: "category", data: data.days},
      yAxis: [{type: "value", name: ratings}, {type: "value", name: "%", min: 0, max: 100}],
      series: [
        {name: ratings, type: "bar", data: data.total, itemStyle: {color: "#9fb7d6"}},
        {name: goodRate, type: "line", yAxisIndex: 1, data: data.good_rate, itemStyle: {color: "#c8161d"}}
      ]
    });
  }
  ["levels", "channels"].forEach(function (id) {
    draw(id, {
      animation: false,
      tooltip: {trigger: "item"},
      legend: {bottom: 0, type: "scroll"},
      series: [{type: "pie", radius: ["30%", "58%"], center: ["50%", "42%"], data: data[id], label: {formatter: "{d}%"}}]
    });
  });

  function resize() {
    charts.forEach(function (chart) { chart.resize(); });
  }
  if (window.ResizeObserver) {
    var observer = new ResizeObserver(resize);
    charts.forEach(function (chart) { observer.observe(chart.getDom()); });
  } else {
    window.addEventListener("resize", resize);
  }
})();
