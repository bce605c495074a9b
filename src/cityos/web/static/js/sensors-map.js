/* Draws the stations on a Leaflet map, coloured by state. The same list is in a table. */
(function () {
  "use strict";
  var element = document.getElementById("map");
  var data = document.getElementById("sensor-points");
  if (!element || !data || typeof L === "undefined") { return; }
  var points = JSON.parse(data.textContent || "[]");
  var map = L.map(element, { scrollWheelZoom: false });
  if (element.dataset.tiles) {
    L.tileLayer(element.dataset.tiles, { maxZoom: 18, attribution: element.dataset.attribution || "" }).addTo(map);
  }
  var bounds = [];
  points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lon], {
      radius: 10, color: "#1b1f24", weight: 2, dashArray: p.offline ? "3 3" : null,
      fillColor: p.colour, fillOpacity: 0.95
    });
    // Names come from stored data: build text nodes, never HTML strings.
    var popup = function () {
      var box = document.createElement("div");
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.name;
      box.appendChild(link);
      var line = document.createElement("div");
      line.textContent = p.state + (p.value ? " · " + p.value : "");
      box.appendChild(line);
      return box;
    };
    marker.bindPopup(popup);
    marker.bindTooltip(function () {
      var span = document.createElement("span");
      span.textContent = p.name + " — " + p.state;
      return span;
    });
    marker.addTo(map);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length) { map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 }); } else { map.setView([35.683, 139.56], 13); }
  element.setAttribute("data-ready", String(points.length));
})();
