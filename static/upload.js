// The cohort page's upload: a file chosen or dropped is posted as text/csv with the session's
// CSRF token, and the server's report (an HTML fragment) replaces the report area.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form) { return; }
  var input = document.getElementById("csv");
  var drop = document.getElementById("drop");
  var out = document.getElementById("import-report");
  var button = form.querySelector("button");
  var chosen = null;

  function pick(file) {
    chosen = file || null;
    drop.textContent = chosen ? chosen.name : drop.getAttribute("data-empty");
  }
  input.addEventListener("change", function () { pick(input.files[0]); });
  ["dragenter", "dragover"].forEach(function (name) {
    drop.addEventListener(name, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    drop.addEventListener(name, function () { drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) { pick(e.dataTransfer.files[0]); }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var file = chosen || input.files[0];
    if (!file) { out.textContent = form.getAttribute("data-none"); return; }
    button.disabled = true;
    out.textContent = form.getAttribute("data-sending");
    fetch(form.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "text/csv", "x-csrf-token": form.getAttribute("data-csrf") },
      body: file
    }).then(function (response) {
      return response.text().then(function (text) {
        var type = response.headers.get("content-type") || "";
        if (type.indexOf("text/html") === 0 && text.indexOf('id="import-result"') !== -1) {
          out.innerHTML = text;
        } else {
          out.textContent = form.getAttribute("data-failed");
        }
      });
    }).catch(function () {
      out.textContent = form.getAttribute("data-failed");
    }).then(function () { button.disabled = false; });
  });
})();
