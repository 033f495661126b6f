// Time zone offer: when neither the platform nor the learner gave a zone, show the zone the
// browser reports (Intl API) and let the learner confirm it with one click. Nothing is sent
// without that click.
(function () {
  "use strict";
  var form = document.getElementById("zone-offer");
  if (!form || typeof Intl === "undefined" || !Intl.DateTimeFormat) { return; }
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  // Browsers report some zones by their old names (Asia/Katmandu): show today's IANA name.
  try { zone = JSON.parse(form.dataset.aliases || "{}")[zone] || zone; } catch (e) { /* as is */ }
  if (!zone || zone === form.dataset.current) { return; }
  document.getElementById("zone-offer-zone").value = zone;
  document.getElementById("zone-offer-name").textContent = zone;
  form.hidden = false;
})();
