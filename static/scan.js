// The HR page's scanner: a share's QR code, read from the camera or from a photo (a screenshot the
// learner sent, say), fills in the code and submits the form. Only the code is taken from what the
// QR holds — a link elsewhere is never followed. The browser's own BarcodeDetector is used where it
// exists; otherwise the vendored jsQR is loaded on first use.
(function () {
  "use strict";
  var section = document.getElementById("scan");
  var form = document.getElementById("verify-form");
  var field = document.getElementById("code");
  if (!section || !form || !field) { return; }
  var photo = document.getElementById("scan-photo");
  var cameraButton = document.getElementById("scan-camera");
  var video = document.getElementById("scan-video");
  var status = document.getElementById("scan-status");
  var canvas = document.createElement("canvas");
  var stream = null;
  var detector = null;
  var jsqr = null;
  section.hidden = false;

  function say(name) { status.textContent = section.getAttribute("data-" + name) || ""; }

  // A share link (…/verify?code=…) or a bare code; null for anything else.
  function codeIn(text) {
    text = (text || "").trim();
    var candidate = text;
    if (/^https?:\/\//i.test(text)) {
      try {
        var url = new URL(text);
        if (!/\/verify\/?$/.test(url.pathname)) { return null; }
        candidate = url.searchParams.get("code") || "";
      } catch (e) { return null; }
    }
    var bare = candidate.replace(/[\s-]/g, "");
    return /^[0-9A-Za-z]{16}$/.test(bare) ? candidate.trim() : null;
  }

  function found(text) {
    var code = codeIn(text);
    if (!code) { say("foreign"); return false; }
    stopCamera();
    field.value = code;
    say("found");
    form.submit();
    return true;
  }

  function loadJsQr() {
    if (jsqr) { return jsqr; }
    jsqr = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = section.getAttribute("data-decoder");
      script.onload = function () { window.jsQR ? resolve(window.jsQR) : reject(); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
    return jsqr;
  }

  function nativeDetector() {
    if (detector !== null) { return detector; }
    detector = false;
    if ("BarcodeDetector" in window) {
      try { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); } catch (e) { detector = false; }
    }
    return detector;
  }

  // What the picture (an image, a bitmap or a video frame) holds, or null.
  function decode(source, width, height) {
    var native = nativeDetector();
    if (native) {
      return native.detect(source).then(function (codes) {
        return codes.length ? codes[0].rawValue : null;
      }, function () { return null; });
    }
    var scale = Math.min(1, 1024 / Math.max(width, height));
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
    return loadJsQr().then(function (read) {
      var result = read(pixels.data, pixels.width, pixels.height, { inversionAttempts: "attemptBoth" });
      return result ? result.data : null;
    });
  }

  photo.addEventListener("change", function () {
    var file = photo.files[0];
    if (!file) { return; }
    say("reading");
    createImageBitmap(file).then(function (bitmap) {
      return decode(bitmap, bitmap.width, bitmap.height);
    }).then(function (text) {
      if (text === null) { say("none"); } else { found(text); }
    }).catch(function () { say("none"); });
  });

  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    video.hidden = true;
  }

  function scanFrame() {
    if (!stream) { return; }
    if (video.readyState < 2) { window.setTimeout(scanFrame, 200); return; }
    decode(video, video.videoWidth, video.videoHeight).then(function (text) {
      if (text !== null && found(text)) { return; }
      window.setTimeout(scanFrame, 250);
    }, function () { window.setTimeout(scanFrame, 250); });
  }

  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    cameraButton.hidden = false;
    cameraButton.addEventListener("click", function () {
      if (stream) { stopCamera(); say("stopped"); return; }
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (s) {
          stream = s;
          video.srcObject = s;
          video.hidden = false;
          say("aim");
          return video.play();
        }).then(scanFrame).catch(function () { stopCamera(); say("denied"); });
    });
  }
})();
