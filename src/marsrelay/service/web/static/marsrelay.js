// marsrelay relay coordination pages: small improvements only; every page works without them.
// Loaded from /static (CSP script-src 'self'); no inline handlers.
"use strict";

(function () {
  // 1. The request form: the predicted volume of the typed window, computed by the server.
  function sharePreview(form) {
    var url = form.getAttribute("data-share-url");
    var out = form.querySelector("output#share");
    var start = form.querySelector("[data-share=start_utc]");
    var end = form.querySelector("[data-share=end_utc]");
    if (!url || !out || !start || !end) { return; }
    var timer = null;
    function update() {
      var q = "?start_utc=" + encodeURIComponent(start.value.trim()) +
              "&end_utc=" + encodeURIComponent(end.value.trim());
      fetch(url + q, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) { out.textContent = data.text; })
        .catch(function () { out.textContent = "(preview unavailable: use the button)"; });
    }
    function later() { clearTimeout(timer); timer = setTimeout(update, 250); }
    start.addEventListener("input", later);
    end.addEventListener("input", later);
  }

  // 2. The unread count in the header, refreshed every minute.
  function unreadBadge(badge) {
    var url = badge.getAttribute("data-count-url");
    function refresh() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || data.unread === null) { return; }
          var n = data.unread;
          badge.textContent = n >= 1000 ? "1000+" : String(n);
          badge.setAttribute("aria-label", n + " unread");
          badge.classList.toggle("zero", n === 0);
        })
        .catch(function () { /* offline: keep the last count */ });
    }
    setInterval(refresh, 60000);
  }

  // 3. Forward files: say so before uploading a file over the limit.
  function fileLimit(input) {
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    var msg = document.getElementById("file-error");
    input.addEventListener("change", function () {
      var f = input.files && input.files[0];
      var bad = f && f.size > max;
      input.setCustomValidity(bad ? "over the limit" : "");
      if (msg) {
        msg.hidden = !bad;
        msg.textContent = bad ? (f.name + " is " + f.size + " bytes, over the limit of " + max + " bytes.") : "";
      }
    });
  }

  function start() {
    document.querySelectorAll("form[data-share-url]").forEach(sharePreview);
    var badge = document.getElementById("unread");
    if (badge) { unreadBadge(badge); }
    document.querySelectorAll("input[type=file][data-max-bytes]").forEach(fileLimit);
    document.documentElement.setAttribute("data-js", "ready");  // for tests and styles
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
