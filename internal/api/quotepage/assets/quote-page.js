// The customer's quote page: reports that a person is looking at the quote,
// and sends their answer (accept, or reject with a reason) through the
// public JSON routes. Every request goes to this page's own server.
(function () {
  "use strict";

  var root = document.getElementById("quote");
  var data = document.getElementById("qp-text");
  if (!root || !data) {
    return;
  }
  var text = JSON.parse(data.textContent);
  var base = root.getAttribute("data-base");
  var message = document.getElementById("qp-message");
  var problem = document.getElementById("qp-problem");
  var statusText = document.getElementById("qp-status-text");
  var actions = document.getElementById("qp-actions");

  // An Idempotency-Key per answer, made once per page: a double click, or
  // a retry after a lost response, sends the same key and is answered
  // once. crypto.getRandomValues works on plain http too.
  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var s = "qp-";
    for (var i = 0; i < bytes.length; i++) {
      s += (bytes[i] + 256).toString(16).slice(1);
    }
    return s;
  }
  var keys = { accept: newKey(), reject: newKey() };

  // The view is reported when the page is visible to a person, not when a
  // link scanner fetches it: a scanner runs no script, and a page opened
  // in a background tab reports when it is first shown.
  function reportView() {
    fetch(base + "/view", {
      method: "POST",
      headers: { Accept: "application/json" },
      credentials: "omit",
      keepalive: true
    }).catch(function () {
      // A view that could not be reported is not the customer's problem.
    });
  }
  if (root.getAttribute("data-status") === "sent") {
    if (document.visibilityState === "visible") {
      reportView();
    } else {
      var onVisible = function () {
        if (document.visibilityState === "visible") {
          document.removeEventListener("visibilitychange", onVisible);
          reportView();
        }
      };
      document.addEventListener("visibilitychange", onVisible);
    }
  }

  function showStatus(status) {
    root.setAttribute("data-status", status);
    statusText.setAttribute("data-status", status);
    statusText.textContent = text.status[status] || status;
    if (status !== "sent" && status !== "viewed" && actions) {
      actions.remove();
      actions = null;
    }
  }

  function say(words) {
    problem.hidden = true;
    problem.textContent = "";
    message.textContent = words;
    message.focus();
  }

  function complain(summary, detail) {
    problem.textContent = summary;
    if (detail) {
      var small = document.createElement("small");
      small.textContent = detail;
      problem.appendChild(small);
    }
    problem.hidden = false;
  }

  function busy(on) {
    if (!actions) {
      return;
    }
    var buttons = actions.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = on;
    }
    message.textContent = on ? text.working : "";
  }

  // refresh reads the quote again after an answer was refused, so that the
  // page shows what the quote is now (accepted elsewhere, expired).
  function refresh() {
    return fetch(base, { headers: { Accept: "application/json" }, credentials: "omit" })
      .then(function (res) {
        return res.ok ? res.json() : null;
      })
      .then(function (quote) {
        if (quote && quote.status) {
          showStatus(quote.status);
          if (text.state[quote.status]) {
            message.textContent = text.state[quote.status];
          }
        }
      })
      .catch(function () {});
  }

  function refused(status, body) {
    var detail = "";
    if (text.details && body) {
      detail = body.detail || "";
      if (body.errors && body.errors.length && body.errors[0].message) {
        detail = body.errors[0].message;
      }
    }
    var kind = "generic";
    if (status === 404) {
      kind = "not_found";
    } else if (status === 409) {
      kind = "conflict";
    } else if (status === 400 || status === 422) {
      kind = "invalid";
    } else if (status === 429) {
      kind = "busy";
    }
    complain(text.errors[kind], detail);
    if (status === 409) {
      refresh();
    }
  }

  function answer(action, body) {
    busy(true);
    problem.hidden = true;
    var init = {
      method: "POST",
      headers: { Accept: "application/json", "Idempotency-Key": keys[action] },
      credentials: "omit"
    };
    if (body) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    fetch(base + "/" + action, init)
      .then(function (res) {
        return res
          .json()
          .catch(function () {
            return null;
          })
          .then(function (json) {
            busy(false);
            if (res.ok && json && json.status) {
              showStatus(json.status);
              say(text.state[json.status] || "");
              return;
            }
            refused(res.status, json);
          });
      })
      .catch(function () {
        busy(false);
        complain(text.errors.network, "");
      });
  }

  if (actions) {
    document.getElementById("qp-accept").addEventListener("click", function () {
      answer("accept", null);
    });
    document.getElementById("qp-reject").addEventListener("click", function () {
      var reason = document.getElementById("qp-reason").value.trim();
      answer("reject", reason ? { reason: reason } : null);
    });
  }
})();
