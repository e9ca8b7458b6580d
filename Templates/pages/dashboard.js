// Live updates for the dashboard over Server-Sent Events. Without JavaScript the page reloads itself instead.
(function () {
  "use strict";
  if (!window.EventSource) { return; }
  var live = document.getElementById("live");
  var shape = document.body.getAttribute("data-shape");
  var source = new EventSource("/events");
  source.addEventListener("dashboard", function (event) {
    var update = JSON.parse(event.data);
    if (update.shape !== shape) { window.location.reload(); return; }
    Object.keys(update.text).forEach(function (id) {
      var element = document.getElementById(id);
      if (element && element.textContent !== update.text[id]) { element.textContent = update.text[id]; }
    });
    Object.keys(update.attributes).forEach(function (id) {
      var element = document.getElementById(id);
      if (!element) { return; }
      var values = update.attributes[id];
      Object.keys(values).forEach(function (name) { element.setAttribute(name, values[name]); });
    });
    live.textContent = "live";
  });
  source.addEventListener("error", function () { live.textContent = "reconnecting…"; });
})();
