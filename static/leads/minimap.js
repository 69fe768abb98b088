/* DealFinder read-only admin maps (a lead's location, a buyer's buy box), drawn from data-* attributes.
 * <div class="df-minimap" data-tiles data-attribution data-max-zoom
 *      [data-lat data-lon data-tier data-label] [data-geojson] [data-radius-m]></div>
 * No inline script: this file is loaded from the admin's Media (CSP script-src 'self'). */
(function () {
  "use strict";

  var AREA_STYLE = {color: "#264b5d", weight: 2, fillColor: "#0b5cab", fillOpacity: 0.15};

  function number(value) {
    return value === undefined || value === "" ? null : Number(value);
  }

  function draw(el) {
    var data = el.dataset;
    var maxZoom = number(data.maxZoom) || 19;
    var map = L.map(el, {scrollWheelZoom: false, maxZoom: maxZoom});
    L.tileLayer(data.tiles, {attribution: data.attribution || "", maxZoom: maxZoom}).addTo(map);
    var shapes = L.featureGroup();
    var bounds = L.latLngBounds([]);
    var lat = number(data.lat), lon = number(data.lon), radius = number(data.radiusM);

    if (data.geojson) {
      var area = L.geoJSON(JSON.parse(data.geojson), {style: AREA_STYLE}).addTo(shapes);
      bounds.extend(area.getBounds());
    }
    if (lat !== null && lon !== null) {
      var center = L.latLng(lat, lon);
      if (radius) {
        L.circle(center, Object.assign({radius: radius}, AREA_STYLE)).addTo(shapes);
        bounds.extend(center.toBounds(2 * radius));  // a circle has no bounds before it is on a map
      }
      L.marker(center, {
        title: data.label || "",
        keyboard: false,
        icon: L.divIcon({className: "lead-marker tier-" + (data.tier || "D"), iconSize: [14, 14]}),
      }).addTo(shapes);
      bounds.extend(center);
    }
    if (lat !== null && !radius && !data.geojson) {
      map.setView([lat, lon], Math.min(16, maxZoom));
    } else if (bounds.isValid()) {
      map.fitBounds(bounds, {padding: [12, 12], maxZoom: 16});
    } else {
      map.setView([0, 0], 2);
    }
    shapes.addTo(map);
    el.dataset.mapState = "ready";
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".df-minimap"), draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
