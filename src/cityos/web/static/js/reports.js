/* The report form: shows the chosen kind's questions, and sets the place from the phone's
   location or a tap on the map. Without JavaScript every question shows and the address
   field gives the place. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var ja = document.documentElement.lang !== "en";
  var select = form.elements.service_code;
  function showQuestions() {
    var sets = form.querySelectorAll("fieldset[data-service]");
    Array.prototype.forEach.call(sets, function (set) {
      var on = set.getAttribute("data-service") === select.value;
      set.hidden = !on;
      set.disabled = !on;
    });
  }
  select.addEventListener("change", showQuestions);
  showQuestions();

  var lat = form.elements.lat, lon = form.elements["long"];
  var status = document.getElementById("place-status");
  var gps = document.getElementById("use-gps");
  var clear = document.getElementById("clear-place");
  var element = document.getElementById("place-map");
  var map = null, marker = null;

  function setPlace(y, x, how) {
    lat.value = y.toFixed(6);
    lon.value = x.toFixed(6);
    status.textContent = (ja ? how[0] : how[1]) + ": " + lat.value + ", " + lon.value;
    clear.hidden = false;
    if (map) {
      if (marker) { marker.setLatLng([y, x]); } else {
        marker = L.circleMarker([y, x], { radius: 10, color: "#1a1a1a", weight: 3, fillColor: "#ffbf47", fillOpacity: 1 }).addTo(map);
      }
    }
  }

  if (element && typeof L !== "undefined") {
    var d = element.dataset;
    map = L.map(element, { scrollWheelZoom: false });
    if (d.tiles) { L.tileLayer(d.tiles, { maxZoom: 19, attribution: d.attribution || "" }).addTo(map); }
    var bounds = [[+d.south, +d.west], [+d.north, +d.east]];
    map.fitBounds(bounds);
    L.rectangle(bounds, { color: "#00577a", weight: 1, fill: false, interactive: false }).addTo(map);
    map.on("click", function (event) {
      setPlace(event.latlng.lat, event.latlng.lng, ["地図で選んだ場所", "Place chosen on the map"]);
    });
    if (lat.value && lon.value) { setPlace(+lat.value, +lon.value, ["地図で選んだ場所", "Place chosen on the map"]); }
    element.setAttribute("data-ready", "1");
  }

  clear.addEventListener("click", function () {
    lat.value = ""; lon.value = ""; status.textContent = "";
    if (marker) { marker.remove(); marker = null; }
    clear.hidden = true;
  });

  if ("geolocation" in navigator) {
    gps.hidden = false;
    gps.addEventListener("click", function () {
      status.textContent = ja ? "現在地を確認しています…" : "Finding your location…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        setPlace(pos.coords.latitude, pos.coords.longitude, ["現在地", "Your location"]);
        if (map) { map.setView([pos.coords.latitude, pos.coords.longitude], 17); }
      }, function () {
        status.textContent = ja ? "現在地がわかりません。地図をタップするか住所を入力してください。"
                                : "Your location is not available: tap the map or type the address.";
      }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }
})();
