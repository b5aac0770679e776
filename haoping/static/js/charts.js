// The indicator pages' charts (indicators/_charts.html): data from the page's #chart-data JSON,
// labels from data attributes of #trend, so that no script is inline (Content-Security-Policy).
(function () {
  var source = document.getElementById("chart-data");
  var box = document.getElementById("trend");
  if (!window.echarts || !source || !box) return;
  var data = JSON.parse(source.textContent);
  var ratings = box.dataset.ratingsLabel;
  var goodRate = box.dataset.goodRateLabel;
  echarts.init(box).setOption({
    animation: false, tooltip: {trigger: "axis"}, legend: {data: [ratings, goodRate]},
    xAxis: {type: "category", data: data.days},
    yAxis: [{type: "value", name: ratings}, {type: "value", name: "%", min: 0, max: 100}],
    series: [{name: ratings, type: "bar", data: data.total, itemStyle: {color: "#9fb7d6"}},
             {name: goodRate, type: "line", yAxisIndex: 1, data: data.good_rate, itemStyle: {color: "#c8161d"}}]
  });
  var pie = function (id, series) {
    echarts.init(document.getElementById(id)).setOption({animation: false, tooltip: {trigger: "item"},
      legend: {bottom: 0, type: "scroll"},
      series: [{type: "pie", radius: ["30%", "58%"], center: ["50%", "42%"], data: series, label: {formatter: "{d}%"}}]});
  };
  pie("levels", data.levels);
  pie("channels", data.channels);
})();
