/* DealFinder lead map: loads the viewport from the GeoJSON endpoint, clusters, draws selections. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("map-config").textContent);
  var form = document.getElementById("filters");
  var countEl = document.getElementById("lead-count");
  var noteEl = document.getElementById("lead-count-note");
  var shapeInput = document.getElementById("id_shape");
  var statusEl = document.getElementById("selection-status");
  var TIERS = ["A", "B", "C", "D"];
  var NOT_FILTERS = ["csrfmiddlewaretoken", "shape", "assignee"];

  function escapeHtml(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function money(value) {
    return value === null || value === undefined ? "—" : "$" + Math.round(value).toLocaleString("en-US");
  }

  function filterParams() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (NOT_FILTERS.indexOf(key) === -1 && value !== "" && value !== "unknown") params.append(key, value);
    });
    return params;
  }

  function bestTier(tiers) {
    for (var i = 0; i < TIERS.length; i++) if (tiers[TIERS[i]]) return TIERS[i];
    return "D";
  }

  function adminUrl(template, id) {
    return String(template || "").replace("{id}", encodeURIComponent(id));
  }

  function popupHtml(p, urls) {
    var reasons = p.reasons.map(function (r) { return "<li>" + escapeHtml(r) + "</li>"; }).join("");
    return '<div class="lead-popup">' +
      "<strong>" + escapeHtml(p.address) + "</strong>" +
      '<div>Score <b>' + escapeHtml(p.score) + "</b> · Tier " + escapeHtml(p.tier) +
      " · stack " + escapeHtml(p.stack) + "</div>" +
      (reasons ? "<ul>" + reasons + "</ul>" : "") +
      "<div>ARV " + money(p.arv) + " · MAO " + money(p.mao) + "</div>" +
      '<div class="links"><a class="lead-link" href="' + escapeHtml(adminUrl(urls.lead, p.id)) + '">Open lead</a> · ' +
      '<a class="property-link" href="' + escapeHtml(adminUrl(urls.property, p.property_id)) + '">Property</a></div></div>';
  }

  function circleToPolygon(center, radiusMeters) {
    var coords = [];
    var dLat = radiusMeters / 111320;
    var dLng = radiusMeters / (111320 * Math.cos(center.lat * Math.PI / 180));
    for (var i = 0; i < 64; i++) {
      var a = (i / 64) * 2 * Math.PI;
      coords.push([center.lng + dLng * Math.cos(a), center.lat + dLat * Math.sin(a)]);
    }
    coords.push(coords[0]);
    return {type: "Polygon", coordinates: [coords]};
  }

  window.dealMapInit = function (map) {
    window.dealMap = map;
    var points = L.markerClusterGroup({
      disableClusteringAtZoom: 17,
      showCoverageOnHover: false,
      iconCreateFunction: function (cluster) {
        var tiers = {};
        cluster.getAllChildMarkers().forEach(function (m) { tiers[m.options.tier] = 1; });
        return L.divIcon({
          html: "<span>" + cluster.getChildCount() + "</span>",
          className: "lead-cluster tier-" + bestTier(tiers),
          iconSize: [36, 36],
        });
      },
    }).addTo(map);
    var cells = L.layerGroup().addTo(map);
    var controller = null;

    function showPoints(features, urls) {
      points.addLayers(features.map(function (f) {
        var c = f.geometry.coordinates;
        var marker = L.marker([c[1], c[0]], {
          tier: f.properties.tier,
          title: f.properties.address,
          icon: L.divIcon({className: "lead-marker tier-" + f.properties.tier, iconSize: [14, 14]}),
        });
        marker.bindPopup(popupHtml(f.properties, urls || {}));
        return marker;
      }));
    }

    function showCells(features) {
      features.forEach(function (f) {
        var c = f.geometry.coordinates;
        var n = f.properties.count;
        var size = Math.round(28 + Math.min(24, Math.log(n + 1) * 4));
        var tiers = f.properties.tiers;
        var marker = L.marker([c[1], c[0]], {
          icon: L.divIcon({
            html: "<span>" + n.toLocaleString("en-US") + "</span>",
            className: "grid-cluster tier-" + bestTier(tiers),
            iconSize: [size, size],
          }),
          title: TIERS.map(function (t) { return t + ": " + tiers[t]; }).join("  "),
        });
        marker.on("click", function () { map.setView(marker.getLatLng(), Math.min(map.getZoom() + 2, 18)); });
        cells.addLayer(marker);
      });
    }

    function load() {
      if (controller) controller.abort();
      controller = new AbortController();
      var params = filterParams();
      var query = params.toString();
      history.replaceState(null, "", query ? "?" + query : location.pathname);  // the URL shares the filters
      params.set("in_bbox", map.getBounds().toBBoxString());
      params.set("zoom", map.getZoom());
      countEl.textContent = "…";
      fetch(config.geojsonUrl + "?" + params.toString(), {signal: controller.signal, credentials: "same-origin"})
        .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
        .then(function (res) {
          if (!res.ok) {
            countEl.textContent = "—";
            noteEl.textContent = "Check the filters: " + Object.keys(res.body.errors || {}).join(", ");
            return;
          }
          var data = res.body;
          points.clearLayers();
          cells.clearLayers();
          if (data.kind === "points") showPoints(data.features, data.urls); else showCells(data.features);
          countEl.textContent = data.count.toLocaleString("en-US") + (data.count === 1 ? " lead" : " leads");
          countEl.dataset.count = data.count;
          noteEl.textContent = data.truncated ? "(showing the best " + data.features.length + "; zoom in)" : "in view";
          document.body.dataset.mapState = "loaded";
        })
        .catch(function (err) { if (err.name !== "AbortError") countEl.textContent = "error"; });
    }

    var timer = null;
    function reload() { clearTimeout(timer); timer = setTimeout(load, 150); }
    map.on("moveend", reload);
    form.addEventListener("change", function (e) { if (e.target.name !== "assignee") reload(); });
    form.addEventListener("reset", function () { setTimeout(reload, 0); });
    form.addEventListener("submit", function (e) { if (!e.submitter || e.submitter.id !== "export-csv") e.preventDefault(); });

    // Draw a polygon, rectangle or circle to select leads; one selection at a time.
    var drawn = L.featureGroup().addTo(map);
    map.addControl(new L.Control.Draw({
      draw: {polyline: false, marker: false, circlemarker: false, polygon: {allowIntersection: false}},
      edit: {featureGroup: drawn, edit: false},
    }));
    var selection = document.getElementById("selection");
    selection.hidden = false;
    function setShape(geometry) {
      shapeInput.value = geometry ? JSON.stringify(geometry) : "";
      document.querySelectorAll("#export-csv, #assign").forEach(function (b) { b.disabled = !geometry; });
      statusEl.textContent = geometry ? "Shape drawn: export or assign the leads inside it." : "";
    }
    map.on(L.Draw.Event.CREATED, function (e) {
      drawn.clearLayers();
      drawn.addLayer(e.layer);
      setShape(e.layerType === "circle" ? circleToPolygon(e.layer.getLatLng(), e.layer.getRadius())
        : e.layer.toGeoJSON().geometry);
    });
    map.on(L.Draw.Event.DELETED, function () { setShape(null); });

    var assign = document.getElementById("assign");
    if (assign) {
      assign.addEventListener("click", function () {
        var body = new FormData(form);
        assign.disabled = true;
        fetch(config.assignUrl, {
          method: "POST", body: body, credentials: "same-origin",
          headers: {"X-CSRFToken": body.get("csrfmiddlewaretoken")},
        })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            statusEl.textContent = data.errors ? "Not assigned: " + Object.keys(data.errors).join(", ")
              : data.assigned + " leads assigned to " + data.assignee + ".";
            assign.disabled = false;
            load();
          });
      });
    }
    load();
  };
})();
