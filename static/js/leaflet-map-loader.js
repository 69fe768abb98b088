/* django-leaflet's map start-up (leaflet/_leaflet_map.html) without an inline script: one <script> per map,
   its settings in data-* attributes. Behaves as the original: creates the map on the configured load events
   (or at once), passes it to the callback, and exposes window.leafletmap<name> / window.loadmap<name>. */
(function () {
  "use strict";

  var script = document.currentScript;
  var data = script.dataset;
  var globals = data.globals === "true";

  function resolve(path) {
    if (!path) return null;
    var target = window;
    var parts = path.replace(/^window\./, "").split(".");
    for (var i = 0; i < parts.length; i++) {
      if (target === null || target === undefined) return null;
      target = target[parts[i]];
    }
    return typeof target === "function" ? target : null;
  }

  function loadmap() {
    var options = {
      djoptions: JSON.parse(data.djoptions),
      initfunc: loadmap,
      globals: globals,
      callback: resolve(data.callback),
    };
    var map = L.Map.djangoMap(data.name, options);
    if (globals) window["leafletmap" + data.name] = map;
  }

  var loadevents = JSON.parse(data.loadevents);
  if (loadevents.length === 0) loadmap();
  else {
    for (var i = 0; i < loadevents.length; i++) window.addEventListener(loadevents[i], loadmap, false);
  }
  if (globals) window["loadmap" + data.name] = loadmap;
})();
