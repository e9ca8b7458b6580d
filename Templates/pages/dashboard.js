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
    Object.keys(update.lists || {}).forEach(function (id) {
      var list = document.getElementById(id);
      if (!list) { return; }
      var items = update.lists[id];
      while (list.firstChild) { list.removeChild(list.firstChild); }
      items.forEach(function (item) {
        var line = document.createElement("li");
        var time = document.createElement("time");
        time.textContent = item[0];
        line.appendChild(time);
        line.appendChild(document.createTextNode(" " + item[1]));
        list.appendChild(line);
      });
    });
    live.textContent = "live";
  });
  source.addEventListener("error", function () { live.textContent = "reconnecting…"; });
})();
