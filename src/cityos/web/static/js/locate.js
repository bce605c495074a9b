/* "Use my location": fills the finder's lat/lon from the browser and submits it.
   Without JavaScript or permission the address and town fields still work. */
(function () {
  "use strict";
  var forms = document.querySelectorAll("form.locate-form");
  Array.prototype.forEach.call(forms, function (form) {
    var button = form.querySelector(".locate-button");
    var status = form.querySelector(".locate-status");
    if (!button || !("geolocation" in navigator)) { return; }
    button.hidden = false;
    var ja = document.documentElement.lang !== "en";
    button.addEventListener("click", function () {
      status.textContent = ja ? "現在地を確認しています…" : "Finding your location…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        form.elements.lat.value = pos.coords.latitude.toFixed(6);
        form.elements.lon.value = pos.coords.longitude.toFixed(6);
        form.elements.q.value = "";
        form.elements.town.value = "";
        form.submit();
      }, function () {
        status.textContent = ja ? "現在地がわかりません。住所か町名で探してください。"
                                : "Your location is not available: search by address or town.";
      }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  });
})();
