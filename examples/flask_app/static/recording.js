// A recording's player: reports the ranges actually played (never a seek jump) to the tool,
// which keeps their union and decides what counts as watched; and the transcript beside it
// (filter as you type, click a line to play from there). No library, no CDN.
(function () {
  "use strict";
  var video = document.getElementById("recording-player");
  if (!video) { return; }
  var unsent = [];     // closed ranges [start, end] not yet reported
  var from = null;     // where the range being played started (null: not playing)
  var last = 0;        // the last position seen while playing
  var lastAt = 0;      // when (page clock, ms) that position was seen
  var seekFrom = null; // the position a seek left
  var event = null;    // the player event the next report names
  var shown = -1;      // the highest share the tool has answered (it never goes down)

  function close(at) {
    if (from !== null && at > from) { unsent.push([from, at]); }
    from = null;
  }
  function body(name) {
    var data = new URLSearchParams();
    data.set("launch", video.dataset.launch);
    data.set("csrf", video.dataset.csrf);
    data.set("segments", JSON.stringify(unsent));
    data.set("event", name);
    data.set("position", String(video.currentTime || 0));
    if (name === "seeked" && seekFrom !== null) { data.set("from", String(seekFrom)); }
    return data;
  }
  function show(answer) {
    // Two reports can be in flight at once, and each answer is the union the tool held when it
    // was read: the page shows the highest share answered, since what was played stays played.
    if (!answer || typeof answer.percent !== "number" || answer.percent < shown) { return; }
    shown = answer.percent;
    var out = document.getElementById("recording-progress");
    if (out) { out.textContent = answer.percent + "%"; }
  }
  function send(leaving) {
    var name = event || "progress";
    if (!unsent.length && name === "progress") { return; }
    var data = body(name);
    var sending = unsent;
    unsent = [];
    event = null;
    if (leaving && navigator.sendBeacon) {
      navigator.sendBeacon(video.dataset.reportUrl, data);
      return;
    }
    fetch(video.dataset.reportUrl, {
      method: "POST", credentials: "same-origin", body: data,
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      // a refused report (impossible ranges) is dropped; a network failure is sent again
      return response.json();
    }).then(show).catch(function () { unsent = sending.concat(unsent); });
  }

  video.addEventListener("play", function () {
    // Playing starts where the player stood when paused (`last`, kept by pause, seeked and loadedmetadata):
    // on a busy page this handler may run after the media has already moved on.
    var now = video.currentTime;
    from = last <= now ? last : now; last = now; lastAt = performance.now();
    event = "played"; send(false);
  });
  video.addEventListener("timeupdate", function () {
    if (video.paused || video.seeking || from === null) { return; }
    var now = video.currentTime;
    var at = performance.now();
    var rate = Math.max(1, video.playbackRate || 1);
    // An unannounced jump: further than playing could have gone since the last update. Measured
    // against the page's clock, so a busy page whose updates come late loses nothing it played.
    var reach = 1.5 * rate * Math.max(1, (at - lastAt) / 1000);
    if (now < last || now - last > reach) { close(last); from = now; }
    last = now; lastAt = at;
    if (now - from >= 10) { close(now); from = now; send(false); }
  });
  video.addEventListener("seeking", function () {
    if (seekFrom === null) { seekFrom = last; }
    close(last);
  });
  video.addEventListener("seeked", function () {
    event = "seeked"; send(false); seekFrom = null;
    if (!video.paused) { from = video.currentTime; last = from; lastAt = performance.now(); }
    else { last = video.currentTime; }
  });
  video.addEventListener("loadedmetadata", function () {
    if (video.paused) { last = video.currentTime; }
  });
  video.addEventListener("pause", function () {
    if (!video.seeking) { close(video.currentTime); }
    last = video.currentTime;
    event = "paused"; send(false);
  });
  video.addEventListener("ended", function () {
    close(video.duration || video.currentTime); last = video.currentTime;
    event = "ended"; send(false);
  });
  window.addEventListener("pagehide", function () {
    if (!video.paused && from !== null) { var now = video.currentTime; close(now); from = now; }
    send(true);
  });

  // The transcript: filter while typing (the form also works without script), seek on click.
  var list = document.getElementById("transcript-cues");
  var filter = document.getElementById("transcript-filter");
  var count = document.getElementById("transcript-count");
  if (list) {
    list.addEventListener("click", function (e) {
      var button = e.target.closest ? e.target.closest("button.cue-time") : null;
      if (!button) { return; }
      video.currentTime = parseFloat(button.dataset.start);
      video.play();
    });
  }
  if (list && filter && count) {
    var items = Array.prototype.slice.call(list.querySelectorAll("li"));
    filter.addEventListener("input", function () {
      var wanted = filter.value.trim().toLowerCase();
      var shown = 0;
      items.forEach(function (li) {
        var match = !wanted || li.textContent.toLowerCase().indexOf(wanted) !== -1;
        li.hidden = !match;
        if (match) { shown += 1; }
      });
      count.textContent = shown + " of " + items.length + " lines" + (wanted ? " match “" + filter.value.trim() + "”." : ".");
    });
  }
  var track = video.textTracks && video.textTracks[0];
  if (track && list) {
    track.addEventListener("cuechange", function () {
      var active = track.activeCues && track.activeCues[0];
      list.querySelectorAll("li").forEach(function (li) {
        li.setAttribute("aria-current", active && Math.abs(parseFloat(li.dataset.start) - active.startTime) < 0.01 ? "true" : "false");
      });
    });
  }
})();
