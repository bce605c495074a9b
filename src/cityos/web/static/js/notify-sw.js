/* Service worker for City OS notices: shows each pushed notice as a notification and opens
   its page when tapped. The payload is the JSON the server encrypted for this browser. */
"use strict";

self.addEventListener("push", function (event) {
  var data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { title: "三鷹市からのお知らせ", body: event.data ? event.data.text() : "" };
  }
  var title = data.title || "三鷹市からのお知らせ / Mitaka City";
  event.waitUntil(self.registration.showNotification(title, {
    body: data.body || "",
    lang: data.lang || "ja",
    // One tag per notice: a copy delivered twice replaces the first instead of adding one.
    tag: data.tag || undefined,
    data: { url: data.url || "/notify" }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || "/notify";
  event.waitUntil(self.clients.openWindow(url));
});
