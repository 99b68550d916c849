// cmsync console behaviour: confirm dialogs and live progress polling. No external libraries.
(function () {
  "use strict";
  // <button data-confirm="dialog-id"> opens that <dialog>; its form does the real POST.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (dialog && dialog.showModal) { event.preventDefault(); dialog.showModal(); }
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var d = closer.closest("dialog");
      if (d) { event.preventDefault(); d.close(); }
    }
  });
  // Elements with data-poll-url are refreshed from a JSON endpoint until the work is done.
  function poll(el) {
    var url = el.getAttribute("data-poll-url");
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        el.querySelectorAll("[data-field]").forEach(function (node) {
          var key = node.getAttribute("data-field");
          if (key in data) { node.textContent = data[key]; }
        });
        var bar = el.querySelector("[data-progress-bar]");
        if (bar && typeof data.percent === "number") { bar.style.width = data.percent + "%"; }
        if (data.done) {
          if (el.hasAttribute("data-reload-when-done")) { window.location.reload(); }
          return;
        }
        setTimeout(function () { poll(el); }, 1500);
      })
      .catch(function () { setTimeout(function () { poll(el); }, 5000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    // Progress bars carry their width as data (the CSP refuses inline styles where it can).
    document.querySelectorAll("[data-progress-bar][data-percent]").forEach(function (bar) {
      bar.style.width = parseInt(bar.getAttribute("data-percent"), 10) + "%";
    });
    document.querySelectorAll("[data-poll-url]").forEach(poll);
  });
})();
