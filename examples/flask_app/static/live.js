// Live polls and questions: ask the page's state URL every few seconds with If-None-Match.
// While nothing changed the tool answers 304 at once; on a change, results are redrawn in
// place (their regions are aria-live), and a page whose polls or questions changed shape
// reloads itself, unless the person is typing (then the status line says so instead).
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !window.fetch) { return; }
  var status = document.getElementById("live-status");
  var list = document.getElementById("questions");
  var etag = null;
  var every = parseInt(root.dataset.every, 10) || 2000;
  var polls = root.dataset.polls || "";
  var shape = list ? list.dataset.shape || "" : "";
  var told = false;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }

  function typing() {
    var fields = root.querySelectorAll("input[type=text], input:not([type]), textarea");
    for (var i = 0; i < fields.length; i += 1) {
      if (fields[i].value || fields[i] === document.activeElement) { return true; }
    }
    return false;
  }

  function drawResults(poll) {
    var box = document.getElementById("results-" + poll.id);
    var r = poll.results;
    if (!box || !r) { return; }
    var wrap = document.createDocumentFragment();
    var line = r.respondents + (r.respondents === 1 ? " answer" : " answers");
    if (r.mean !== null) { line += " · mean rating " + r.mean; }
    if (poll.state === "closed") { line += " · closed"; }
    wrap.appendChild(el("p", line, "respondents"));
    if (r.labels.length) {
      var bars = el("ul", undefined, "bars");
      r.labels.forEach(function (label, n) {
        var item = el("li");
        var bar = el("progress", String(r.counts[n]));
        bar.max = Math.max(r.respondents, 1);
        bar.value = r.counts[n];
        bar.setAttribute("aria-label", label + ": " + r.counts[n] + " of " + r.respondents);
        item.appendChild(el("span", label, "bar-label"));
        item.appendChild(document.createTextNode(" "));
        item.appendChild(bar);
        item.appendChild(document.createTextNode(" "));
        item.appendChild(el("span", String(r.counts[n]), "bar-count"));
        bars.appendChild(item);
      });
      wrap.appendChild(bars);
    }
    if (r.texts.length) {
      var texts = el("ul", undefined, "texts");
      r.texts.forEach(function (t) { texts.appendChild(el("li", t)); });
      wrap.appendChild(texts);
    }
    box.textContent = "";
    box.appendChild(wrap);
  }

  function apply(data) {
    var nowPolls = data.polls.map(function (p) { return p.id + ":" + p.state; }).join(",");
    var nowShape = data.questions.map(function (q) {
      return [q.id, q.hidden ? "True" : "False", q.pinned ? "True" : "False",
              q.answer !== null ? "True" : "False", q.upvoted ? "True" : "False"].join(":");
    }).join(",");
    data.polls.forEach(drawResults);
    data.questions.forEach(function (q) {
      var votes = document.getElementById("votes-" + q.id);
      if (votes) { votes.textContent = String(q.upvotes); }
    });
    if (nowPolls !== polls || nowShape !== shape) {
      if (!typing()) { window.location.reload(); return; }
      if (!told && status) {
        status.textContent = "The polls or questions changed: reload the page to see them.";
        told = true;
      }
    }
  }

  function tick() {
    var headers = { "Accept": "application/json", "X-Blendkit-Launch": root.dataset.launch };
    if (etag) { headers["If-None-Match"] = etag; }
    fetch(root.dataset.stateUrl, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 304 || !response.ok) { return null; }
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (data) { if (data) { apply(data); } })
      .catch(function () { /* offline for a moment: the next tick tries again */ })
      .then(function () { window.setTimeout(tick, every); });
  }
  window.setTimeout(tick, every);
})();
