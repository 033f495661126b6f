// Video progress: the only script of the tool. Reports how much of the video was watched —
// the union of the ranges actually played (video.played), not the furthest position — to the
// tool, with the launch id and the launch-bound CSRF token.
(function () {
  "use strict";
  var video = document.getElementById("player");
  if (!video) { return; }
  var lastSent = -1;
  function percent() {
    if (!video.duration || !isFinite(video.duration)) { return 0; }
    var seconds = 0;
    for (var i = 0; i < video.played.length; i += 1) {
      seconds += video.played.end(i) - video.played.start(i);
    }
    return Math.min(100, Math.round(1000 * seconds / video.duration) / 10);
  }
  function send() {
    var value = percent();
    if (value <= lastSent) { return; }
    lastSent = value;
    fetch(video.dataset.progressUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Blendkit-Launch": video.dataset.launch,
                 "X-CSRF-Token": video.dataset.csrf },
      body: JSON.stringify({ percent: value, position: video.currentTime, length: video.duration })
    }).then(function (response) { return response.json(); }).then(function (body) {
      var out = document.getElementById("watched");
      if (out && body && typeof body.recorded === "number") { out.textContent = body.recorded + "%"; }
    }).catch(function () { lastSent = -1; });
  }
  video.addEventListener("timeupdate", function () {
    if (percent() - lastSent >= 10) { send(); }
  });
  video.addEventListener("pause", send);
  video.addEventListener("ended", send);
})();
