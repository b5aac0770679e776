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
  // Shares as horizontal bars, one per category with its name beside it and its count and share
  // at its end: every category stays readable and named, which a donut's legend and slice labels
  // are not once there are more than a few (names cut short, "73....", legends paged).
  ["levels", "channels"].forEach(function (id) {
    var items = data[id] || [];
    var total = items.reduce(function (sum, item) { return sum + item.value; }, 0);
    draw(id, {
      animation: false,
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
      // The count and share stand in the right margin, beyond the longest bar.
      grid: {left: 4, right: 92, top: 4, bottom: 4, containLabel: true},
      xAxis: {type: "value", show: false, max: function (range) { return range.max || 1; }},
      yAxis: {type: "category", inverse: true, axisTick: {show: false},
              data: items.map(function (item) { return item.name; })},
      series: [{
        type: "bar", barMaxWidth: 22,
        data: items.map(function (item) { return {value: item.value, itemStyle: {color: item.color || "#5b7fb8"}}; }),
        label: {show: true, position: "right", color: "#1f2328", formatter: function (p) {
          return total ? p.value + "（" + (p.value * 100 / total).toFixed(1) + "%）" : String(p.value);
        }}
      }]
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
