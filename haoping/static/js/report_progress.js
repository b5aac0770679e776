// A monthly report being built (reports/detail.html): follow its progress, reload when it is done.
(function () {
  var box = document.getElementById("report");
  if (!box || (box.dataset.state !== "queued" && box.dataset.state !== "running")) return;
  function show(s) {
    document.getElementById("bar").value = s.progress;
    document.getElementById("percent").textContent = s.progress + "%";
    document.getElementById("step").textContent = s.step_label;
    document.getElementById("state").textContent = s.state_label;
  }
  function poll() {
    fetch(box.dataset.status, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (s) {
        show(s);
        if (s.state === "done" || s.state === "failed") { window.location.reload(); } else { setTimeout(poll, 1500); }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
