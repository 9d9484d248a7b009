/* Hubei Cluster Atlas · the offline map file, part "offline": the live map's points, lists and labels over the folium page of server/exports/offline.py.
 *
 * The file inlines core.js, points.js and areas.js before this part, so its points are the live
 * map's: the same symbols, the same list of what shares a point, the same popups (points.js),
 * the same city labels (areas.js). Parks and projects are one group here, so a point both share
 * is one circle with its whole count; the layer control's two entries switch them. Nothing is
 * fetched: the data is the page's #atlx-data. Popup and tooltip HTML arrive escaped by the
 * server; every other text is written with textContent.
 */
(function (A) {
  "use strict";

  var S = A._;
  var POINT_LAYERS = ["parks", "projects"];

  // Several markers as one circle, as wide as their count asks (layers/style.py STACK), the count
  // in it, ringed in their commonest industry's colour; dashed when they share one point, which
  // is a town's … city's point and the real site of none of them.
  function stackIcon(cl) {
    var kids = cl.getAllChildMarkers(), n = kids.length, st = S.D.style.stack, at = kids[0].getLatLng();
    var shared = kids.every(function (k) { return k.getLatLng().equals(at, 1e-6); });
    var tally = {}, lead = null;
    kids.forEach(function (k) {
      var c = S.colour(k.feature.properties.color);
      tally[c] = (tally[c] || 0) + 1;
      if (lead === null || tally[c] > tally[lead]) lead = c;
    });
    var d = Math.round(st.base + st.per_decade * Math.log10(n));
    var box = S.el("div", { class: "atlx-stack" + (shared ? " atlx-shared" : ""),
      style: "width:" + d + "px;height:" + d + "px;border:" + st.width + "px " + (shared ? "dashed " : "solid ") + lead }, n);
    return L.divIcon({ html: box.outerHTML, className: "atl-cl-wrap", iconSize: [d, d] });
  }

  // The cluster's members, numbered in the document's order, as the live map's cluster view has them.
  function memberBadges(group) {
    (S.D.members || []).forEach(function (m) {
      if (!m.xy) return;
      var d = S.el("div", { class: "atl-badge" });
      d.appendChild(S.el("b", {}, m.n));
      if (m.name) d.appendChild(S.el("span", {}, m.name));  // none for a city: its label names it
      L.marker(m.xy, { icon: L.divIcon({ className: "atl-badge-wrap", html: d.outerHTML, iconSize: null }),
        interactive: false, keyboard: false, zIndexOffset: 1000 }).addTo(group);
    });
  }

  // The legend's symbol keys, drawn by the map's own symbol maker.
  function legendSymbols() {
    document.querySelectorAll("[data-atlx-symbol]").forEach(function (el) {
      var spec = JSON.parse(el.getAttribute("data-atlx-symbol"));
      el.innerHTML = S.symbol(spec.layer, spec).options.html;
    });
  }

  // map: the folium map; data: the page's points, labels, style and words; switches: the layer
  // control's empty groups that stand for parks, projects and the members' badges
  A.offline = function (map, data, switches) {
    S.map = map;
    S.D = data;
    S.U = data.ui;
    S.tiled = {};
    map.setMaxZoom(data.max_zoom);  // markercluster needs one, and without tiles Leaflet has none
    // the view's extent clear of the legend on a wide screen; grouped once, at the view's own zoom
    var legend = document.querySelector(".atlx-legend");
    var right = legend && map.getSize().x > 700 ? legend.offsetWidth + 20 : 0;
    map.fitBounds(data.bounds, { animate: false, paddingTopLeft: [10, 50], paddingBottomRight: [right, 10] });
    // the whole view is in the file, already filtered: no filter of the live map's applies
    S.state = { l: ["cities"].concat(POINT_LAYERS), sector: "", city: "", kind: "", level: "", named: "" };
    S.select = function (lid, id) { A.opened = lid + ":" + id; };  // no URL to keep the selection in
    S.unselect = function () { A.opened = null; };
    var group = L.markerClusterGroup(S.groupOptions("markerPane", stackIcon));
    group.on("clusterclick", S.groupClick);
    POINT_LAYERS.forEach(function (lid) {
      S.markers[lid] = {};
      S.layerById(lid).features.forEach(function (p) {
        if (p.xy) S.markers[lid][p.id] = S.pointMarker(lid, p, "markerPane");
      });
    });
    function refresh() {
      var on = POINT_LAYERS.filter(function (lid) { return switches[lid] && map.hasLayer(switches[lid]); });
      S.state.l = ["cities"].concat(on);
      group.clearLayers();
      on.forEach(function (lid) {
        group.addLayers(Object.keys(S.markers[lid]).map(function (k) { return S.markers[lid][k]; }));
      });
    }
    map.on("overlayadd overlayremove", function (e) {
      if (POINT_LAYERS.some(function (lid) { return switches[lid] === e.layer; })) { map.closePopup(); refresh(); }
    });
    refresh();
    group.addTo(map);
    S.buildLabels();
    S.syncLabels();
    map.on("zoomend", S.syncLabels);
    if (switches.members) memberBadges(switches.members);
    legendSymbols();
    A.map = function () { return map; };  // as on the live map, for the browser tests
    A.ready = true;
    document.body.setAttribute("data-ready", "1");
  };
})(window.AtlasMap);
