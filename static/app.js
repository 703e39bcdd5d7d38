// Registers the service worker that keeps the learner's last progress page readable offline.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(function () {});
}
