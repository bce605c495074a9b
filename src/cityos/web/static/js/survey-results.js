// Live tallies: every 15 seconds (while the tab is visible) the results page is fetched again
// and its figures replaced, so staff watch answers arrive without reloading. Without this
// script the "refresh" link does the same.
(function () {
  "use strict";
  var ids = ["live-results", "live-tallies"];
  if (!document.getElementById(ids[0]) || !window.fetch || !window.DOMParser) return;
  function refresh() {
    if (document.hidden) return;
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        ids.forEach(function (id) {
          var live = document.getElementById(id);
          var fresh = doc.getElementById(id);
          if (live && fresh && fresh.innerHTML !== live.innerHTML) live.innerHTML = fresh.innerHTML;
        });
      })
      .catch(function () { /* the next round tries again */ });
  }
  window.setInterval(refresh, 15000);
})();
