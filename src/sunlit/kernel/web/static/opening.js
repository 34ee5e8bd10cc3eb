// Opening hall live updates: Server-Sent Events → reload the live parts of the page.
// Vanilla JS, no third-party script (closed government networks).
(function () {
  "use strict";
  var hall = document.getElementById("hall");
  var status = document.getElementById("live-status");
  if (!hall || !window.EventSource) {
    if (status) status.textContent = "实时更新不可用，请手动刷新页面";
    return;
  }
  var partsUrl = hall.getAttribute("data-parts");
  var busy = false, again = false;

  function editing() {
    var el = document.activeElement;
    return el && hall.contains(el) && (el.tagName === "INPUT" || el.tagName === "TEXTAREA") && el.value;
  }

  function reload() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(partsUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var tmp = document.createElement("div");
        tmp.innerHTML = html;
        var actions = document.getElementById("actions");
        var fresh = tmp.querySelector("#actions");
        if (editing() && actions && fresh) {
          // Keep the form being typed into; refresh everything else.
          fresh.parentNode.replaceChild(actions, fresh);
        }
        hall.replaceChildren.apply(hall, Array.prototype.slice.call(tmp.childNodes));
      })
      .catch(function () { /* the next event or the user's refresh will fix it */ })
      .then(function () {
        busy = false;
        if (again) { again = false; reload(); }
      });
  }

  var source = new EventSource(hall.getAttribute("data-events"));
  source.onopen = function () { if (status) status.textContent = "实时更新：已连接"; };
  source.onerror = function () { if (status) status.textContent = "实时更新：连接中断，正在重连…"; };
  ["scheduled", "started", "continued", "terminated", "decrypted", "announced", "remedied",
   "supervisor_value", "draw", "record", "confirmed", "signed_in"].forEach(function (type) {
    source.addEventListener(type, function () {
      if (status) status.textContent = "实时更新：已连接（" + new Date().toLocaleTimeString("zh-CN") + " 更新）";
      reload();
    });
  });
})();
