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
    var shapes = L.featureGroup().addTo(map);
    var lat = number(data.lat), lon = number(data.lon), radius = number(data.radiusM);

    if (data.geojson) L.geoJSON(JSON.parse(data.geojson), {style: AREA_STYLE}).addTo(shapes);
    if (lat !== null && lon !== null) {
      if (radius) L.circle([lat, lon], Object.assign({radius: radius}, AREA_STYLE)).addTo(shapes);
      L.marker([lat, lon], {
        title: data.label || "",
        keyboard: false,
        icon: L.divIcon({className: "lead-marker tier-" + (data.tier || "D"), iconSize: [14, 14]}),
      }).addTo(shapes);
    }
    if (shapes.getLayers().length === 1 && lat !== null && !radius) {
      map.setView([lat, lon], Math.min(16, maxZoom));
    } else if (shapes.getLayers().length) {
      map.fitBounds(shapes.getBounds(), {padding: [12, 12], maxZoom: 16});
    } else {
      map.setView([0, 0], 2);
    }
    el.dataset.mapState = "ready";
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll(".df-minimap"), draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
