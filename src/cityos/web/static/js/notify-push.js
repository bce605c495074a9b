/* Browser notifications for City OS notices: subscribe this browser through the Push API
   and send its subscription (and the chosen filters) to /api/notify/webpush/subscriptions.
   No framework; works without a build step. */
(function () {
  "use strict";
  var form = document.getElementById("push-form");
  if (!form) { return; }
  var statusLine = document.getElementById("push-status");
  var stopButton = document.getElementById("push-unsubscribe");
  var WORKER = "/static/js/notify-sw.js";

  function say(key, extra) {
    statusLine.textContent = (form.dataset[key] || "") + (extra || "");
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function chosen() {
    var data = new FormData(form);
    var towns = data.getAll("towns");
    var other = String(data.get("other_towns") || "").split(/[\s、,]+/).filter(Boolean);
    return {
      towns: towns.concat(other),
      topics: data.getAll("topics"),
      language: data.get("language") || "ja"
    };
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 204) { return null; }
      return response.json().then(function (answer) {
        if (!response.ok) { throw new Error(answer.detail || response.statusText); }
        return answer;
      });
    });
  }

  function show(filters) {
    var towns = filters.towns || [];
    var boxes = form.querySelectorAll("input[name=towns]");
    var known = [];
    boxes.forEach(function (box) { box.checked = towns.indexOf(box.value) >= 0; known.push(box.value); });
    form.querySelector("#other_towns").value = towns.filter(function (t) { return known.indexOf(t) < 0; }).join(" ");
    form.querySelectorAll("input[name=topics]").forEach(function (box) { box.checked = (filters.topics || []).indexOf(box.value) >= 0; });
    form.querySelectorAll("input[name=language]").forEach(function (box) { box.checked = box.value === filters.language; });
  }

  // The worker's scope (/static/js/) does not hold this page, so serviceWorker.ready never
  // settles here: wait for the registration's own worker to be active instead.
  function activated(registration) {
    var worker = registration.installing || registration.waiting;
    if (registration.active || !worker) { return Promise.resolve(registration); }
    return new Promise(function (resolve) {
      worker.addEventListener("statechange", function () {
        if (worker.state === "activated") { resolve(registration); }
      });
    });
  }

  function current() {
    return navigator.serviceWorker.getRegistration(WORKER).then(function (registration) {
      return registration ? registration.pushManager.getSubscription() : null;
    });
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("msgUnsupported");
    form.querySelector("#push-subscribe").disabled = true;
    return;
  }

  current().then(function (subscription) {
    if (!subscription) { return; }
    var json = subscription.toJSON();
    return post("/api/notify/webpush/status", { endpoint: json.endpoint, keys: { auth: json.keys.auth } })
      .then(function (filters) { show(filters); stopButton.hidden = false; say("msgCurrent"); });
  }).catch(function () { /* not subscribed here yet */ });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    say("msgWorking");
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { say("msgDenied"); return null; }
      return navigator.serviceWorker.register(WORKER).then(activated).then(function (registration) {
        return registration.pushManager.getSubscription().then(function (existing) {
          return existing || registration.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: keyBytes(form.dataset.vapidKey)
          });
        });
      }).then(function (subscription) {
        var body = chosen();
        body.subscription = subscription.toJSON();
        return post("/api/notify/webpush/subscriptions", body);
      }).then(function (filters) {
        show(filters);
        stopButton.hidden = false;
        say("msgSaved");
      });
    }).catch(function (error) { say("msgFailed", error && error.message ? error.message : String(error)); });
  });

  stopButton.addEventListener("click", function () {
    current().then(function (subscription) {
      if (!subscription) { return null; }
      var json = subscription.toJSON();
      return post("/api/notify/webpush/unsubscribe", { endpoint: json.endpoint, keys: { auth: json.keys.auth } })
        .then(function () { return subscription.unsubscribe(); });
    }).then(function () {
      stopButton.hidden = true;
      say("msgStopped");
    }).catch(function (error) { say("msgFailed", error && error.message ? error.message : String(error)); });
  });
}());
