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

  function dirty(form) {
    // A form the user has started to fill in (typed text or a chosen file).
    var fields = form.querySelectorAll("input, textarea");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "hidden" || f.type === "submit") continue;
      if (f.type === "file" ? f.files && f.files.length : f.value) return true;
    }
    return false;
  }

  function keepDirtyForms(fresh) {
    // Keep every half-filled form (same action) across the refresh; refresh everything else.
    var forms = hall.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      var form = forms[i];
      if (!dirty(form)) continue;
      var action = form.getAttribute("action");
      var candidates = fresh.querySelectorAll("form");
      for (var j = 0; j < candidates.length; j++) {
        if (candidates[j].getAttribute("action") === action) {
          candidates[j].parentNode.replaceChild(form, candidates[j]);
          break;
        }
      }
    }
  }

  var deadlineTimer = null;
  function scheduleDeadline() {
    // The confirmation window closes without an event: refresh the parts when it does.
    if (deadlineTimer) { clearTimeout(deadlineTimer); deadlineTimer = null; }
    var el = hall.querySelector("[data-until]");
    if (!el) return;
    var wait = Date.parse(el.getAttribute("data-until")) - Date.now() + 1000;
    if (wait > 0 && wait < 4 * 3600 * 1000) deadlineTimer = setTimeout(reload, wait);
  }

  function reload() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(partsUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var tmp = document.createElement("div");
        tmp.innerHTML = html;
        keepDirtyForms(tmp);
        hall.replaceChildren.apply(hall, Array.prototype.slice.call(tmp.childNodes));
        scheduleDeadline();
      })
      .catch(function () { /* the next event or the user's refresh will fix it */ })
      .then(function () {
        busy = false;
        if (again) { again = false; reload(); }
      });
  }

  scheduleDeadline();
  var source = new EventSource(hall.getAttribute("data-events"));
  source.onopen = function () { if (status) status.textContent = "实时更新：已连接"; };
  source.onerror = function () { if (status) status.textContent = "实时更新：连接中断，正在重连…"; };
  ["scheduled", "started", "continued", "terminated", "decrypted", "announced", "remedied",
   "supervisor_value", "draw", "record", "confirmed", "signed_in", "bidder_confirmed",
   "objection_raised", "objection_answered"].forEach(function (type) {
    source.addEventListener(type, function () {
      if (status) status.textContent = "实时更新：已连接（" + new Date().toLocaleTimeString("zh-CN") + " 更新）";
      reload();
    });
  });
})();
