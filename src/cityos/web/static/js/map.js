/* Draws the points of a table on a Leaflet map. The same data is always in a table too. */
(function () {
  "use strict";
  var element = document.getElementById("map");
  var data = document.getElementById("map-points");
  if (!element || !data || typeof L === "undefined") { return; }
  var points = JSON.parse(data.textContent || "[]");
  var map = L.map(element, { scrollWheelZoom: false });
  if (element.dataset.tiles) {
    L.tileLayer(element.dataset.tiles, { maxZoom: 18, attribution: element.dataset.attribution || "" }).addTo(map);
  }
  var bounds = [];
  points.forEach(function (p) {
    // The searcher's own place is drawn apart from the results: a larger dark ring.
    var style = p.origin
      ? { radius: 10, color: "#1a1a1a", weight: 3, fillColor: "#ffffff", fillOpacity: 1 }
      : { radius: 7, color: "#00577a", weight: 2, fillColor: "#ffbf47", fillOpacity: 0.9 };
    var marker = L.circleMarker([p.lat, p.lon], style);
    if (p.name) {
      // Names come from uploaded data: pass text nodes, never HTML strings.
      var label = function () { var span = document.createElement("span"); span.textContent = p.name; return span; };
      marker.bindPopup(label);
      marker.bindTooltip(label());
    }
    marker.addTo(map);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 }); } else { map.setView([35.683, 139.56], 13); }
  element.setAttribute("data-ready", String(points.length));
})();
