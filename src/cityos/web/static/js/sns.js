/* SNS triage pages: the map of posts or areas, and the live queue (refreshed every few seconds
   while nobody is typing a note). Texts come from posts: build text nodes, never HTML strings. */
(function () {
  "use strict";
  var element = document.getElementById("sns-map");
  var map = null;
  var layer = null;

  function draw() {
    var data = document.getElementById("sns-points");
    if (!element || !data || typeof L === "undefined") { return; }
    var points = JSON.parse(data.textContent || "[]");
    if (!map) {
      map = L.map(element, { scrollWheelZoom: false });
      if (element.dataset.tiles) {
        L.tileLayer(element.dataset.tiles, { maxZoom: 18, attribution: element.dataset.attribution || "" }).addTo(map);
      }
      layer = L.layerGroup().addTo(map);
    }
    layer.clearLayers();
    var bounds = [];
    points.forEach(function (p) {
      var marker = L.circleMarker([p.lat, p.lon], {
        radius: p.radius || 9, color: "#1b1f24", weight: 2, fillColor: p.colour, fillOpacity: 0.85
      });
      if (p.permanent) {
        // Areas carry their name on the map (it may be drawn without a base map).
        var name = document.createElement("span");
        name.textContent = p.label;
        marker.bindTooltip(name, { permanent: true, direction: "right", offset: [8, 0] });
        marker.on("click", function () {
          var target = document.getElementById(p.anchor);
          if (target) { target.scrollIntoView({ behavior: "smooth", block: "start" }); }
        });
        marker.addTo(layer);
        bounds.push([p.lat, p.lon]);
        return;
      }
      marker.bindTooltip(function () {
        var box = document.createElement("div");
        var head = document.createElement("strong");
        head.textContent = p.label + (p.town ? " · " + p.town : "");
        box.appendChild(head);
        if (p.text) {
          var line = document.createElement("div");
          line.textContent = p.text;
          box.appendChild(line);
        }
        return box;
      });
      marker.on("click", function () {
        var target = document.getElementById(p.anchor);
        if (target) { target.scrollIntoView({ behavior: "smooth", block: "center" }); target.focus && target.focus(); }
      });
      marker.addTo(layer);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length) { map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 }); } else { map.setView([35.683, 139.56], 13); }
    element.setAttribute("data-ready", String(points.length));
  }

  draw();

  var live = document.getElementById("live-state");
  var list = document.getElementById("queue-list");
  if (!live || !list || !window.fetch) { return; }
  var seconds = parseInt(live.dataset.refresh || "20", 10) * 1000;
  function busy() {
    var active = document.activeElement;
    return active && active.closest && active.closest(".mark-form") && active.value;
  }
  function refresh() {
    if (busy() || document.hidden) { live.setAttribute("data-paused", ""); return; }
    live.removeAttribute("data-paused");
    fetch(window.location.pathname + window.location.search, { headers: { "X-Partial": "1" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html || busy()) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;  // our own server's fragment, escaped by its templates
        var fresh = holder.querySelector("#queue-list");
        if (!fresh) { return; }
        list.replaceWith(fresh);
        list = fresh;
        draw();
        live.setAttribute("data-updated", new Date().toISOString());
      })
      .catch(function () { live.setAttribute("data-paused", ""); });
  }
  window.setInterval(refresh, seconds);
})();
