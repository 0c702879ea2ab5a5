/* educt-admin — the one script, loaded from /assets (the CSP forbids inline scripts).
   Every page works without it: it only adds a print button and follows a batch's progress. */
(function () {
  "use strict";

  /* « Imprimer »: hidden in the page, shown here and bound to the browser's print. */
  document.querySelectorAll("[data-imprimer]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  /* A running batch: its progress carries data-actualiser (seconds). Fetch the same page
     every so often and take its progress and the rest of its state, until the batch has
     stopped (the fetched progress has no data-actualiser) or anything goes wrong: the
     « Mettre à jour » link is still there. */
  var progress = document.querySelector("#lot-progression[data-actualiser]");
  if (!progress) { return; }

  function later(seconds) {
    window.setTimeout(poll, Math.max(1, seconds) * 1000);
  }

  function take(page) {
    var fresh = page.getElementById("lot-progression");
    var rest = document.getElementById("lot-suite");
    var freshRest = page.getElementById("lot-suite");
    if (!fresh) { return; }
    if (progress.textContent !== fresh.textContent) { progress.textContent = fresh.textContent; }
    if (rest && freshRest) { rest.replaceWith(document.adoptNode(freshRest)); }
    var seconds = Number(fresh.getAttribute("data-actualiser"));
    if (seconds > 0) { later(seconds); }
  }

  function poll() {
    if (document.hidden) { later(5); return; }
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (res) {
        if (!res.ok) { throw new Error(String(res.status)); }
        return res.text();
      })
      .then(function (html) { take(new DOMParser().parseFromString(html, "text/html")); })
      .catch(function () { /* stop: the « Mettre à jour » link remains */ });
  }

  later(Number(progress.getAttribute("data-actualiser")));
}());
