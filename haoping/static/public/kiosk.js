/* A self-service kiosk's rating pages (R22): after a minute without a touch, back to the kiosk's
   home, whose address the page carries (checked against the kiosks' list by the server). */
(function () {
  "use strict";
  var home = document.body.getAttribute("data-kiosk-return");
  /* A minute without a touch; on the receipt, a few seconds (each touch gives more time). */
  var IDLE_MS = (parseInt(document.body.getAttribute("data-kiosk-after"), 10) || 60) * 1000;
  var timer = null;
  if (!home) { return; }
  function restart() {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(function () { window.location.replace(home); }, IDLE_MS);
  }
  ["pointerdown", "keydown", "input", "touchstart", "scroll"].forEach(function (name) {
    window.addEventListener(name, restart, { passive: true });
  });
  restart();
}());
