/* The window pad: follows the server's event stream (or, where it breaks, polls) and shows the
   service registered at its window; after a rating it returns to idle. */
(function () {
  "use strict";
  var body = document.body;
  var mode = body.getAttribute("data-mode");
  var home = body.getAttribute("data-home");
  var showing = body.getAttribute("data-service") || "";
  var POLL_MS = 3000;
  var poller = null;
  var source = null;

  function show(service) {
    if ((service || "") !== showing) {
      showing = service || "";
      if (source) { source.close(); }
      window.location.replace(home);
    }
  }

  function poll() {
    fetch(body.getAttribute("data-state"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { show(data.service); } })
      .catch(function () { /* the next tick tries again */ });
  }

  function startPolling() {
    if (!poller) { poller = window.setInterval(poll, POLL_MS); }
  }

  function stopPolling() {
    if (poller) { window.clearInterval(poller); poller = null; }
  }

  if (mode === "thanks") {
    /* Back to idle after a few seconds; a touch gives the reader more time (WCAG 2.2.1). */
    var wait = parseInt(body.getAttribute("data-thanks-ms"), 10) || 8000;
    var timer = window.setTimeout(function () { window.location.replace(home); }, wait);
    window.addEventListener("pointerdown", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { window.location.replace(home); }, wait);
    });
    return;
  }
  if (window.EventSource) {
    source = new EventSource(body.getAttribute("data-events") + "?showing=" + encodeURIComponent(showing));
    source.addEventListener("service", function (e) {
      try { show(JSON.parse(e.data).service); } catch (err) { /* ignore a damaged event */ }
    });
    source.onopen = stopPolling;
    source.onerror = startPolling;
  } else {
    startPolling();
  }
}());
