/* Hubei Cluster Atlas · the interactive map, part "points": parks and projects: symbols, clustering, one list for features that share a point.
 *
 * The map script is split along its seams into static/atlas/*.js, loaded in order by the
 * page (server/mapview.py); core.js makes the namespace AtlasMap and the state every part
 * shares (AtlasMap._, called S). Every part reads and writes the view through S and reaches
 * the other parts' functions as S.name. Popup and tooltip HTML arrive escaped by the server;
 * every other text is written with textContent.
 */
(function (A) {
  "use strict";

  var S = A._;

  // ------------------------------------------------------------------ point markers
  function symbol(lid, p) {
    var c = S.colour(p.color), hollow = p.approx;
    var fill = hollow ? "#ffffff" : c, dash = hollow ? ' stroke-dasharray="3 2"' : "";
    var sw = hollow ? 2.4 : 1.2, stroke = hollow ? c : "#222";
    var size, shape;
    if (lid === "projects") {
      size = 12;
      shape = '<rect x="2" y="2" width="8" height="8" fill="' + fill + '" stroke="' + stroke + '" stroke-width="' + sw + '"' + dash + "/>";
    } else if (p.level === "national") {
      size = 22;
      shape = '<polygon points="11,1.5 13.6,8 20.5,8.3 15.1,12.6 17,19.5 11,15.6 5,19.5 6.9,12.6 1.5,8.3 8.4,8" fill="' + fill +
        '" stroke="' + stroke + '" stroke-width="' + sw + '"' + dash + "/>";
    } else if (p.level === "provincial") {
      size = 18;
      shape = '<polygon points="9,1.5 16.5,9 9,16.5 1.5,9" fill="' + fill + '" stroke="' + stroke + '" stroke-width="' + sw + '"' + dash + "/>";
    } else {
      size = 16;
      shape = '<circle cx="8" cy="8" r="6" fill="' + fill + '" stroke="' + stroke + '" stroke-width="' + sw + '"' + dash + "/>";
    }
    // a zone found only in the national catalogue is drawn faded (p.doc is false)
    var faded = lid === "parks" && p.doc === false ? ' opacity="0.55"' : "";
    var svg = '<svg xmlns="http://www.w3.org/2000/svg" width="' + size + '" height="' + size + '" viewBox="0 0 ' + size + " " + size + '"' + faded + ">" + shape + "</svg>";
    return L.divIcon({ className: "atl-mk atl-mk-" + lid + (hollow ? " atl-hollow" : ""), html: svg, iconSize: [size, size] });
  }

  // Features that share one point (a town's, district's, county's or city's point) open as one
  // list — name, kind, industry, precision — each entry opening its own popup, instead of a
  // spider of spokes. Parks are drawn in a pane above projects, so neither hides the other's
  // list, and a click on any of them lists both.
  function colocated(latlng) {
    var out = [];
    ["parks", "projects"].forEach(function (lid) {
      if (S.state.l.indexOf(lid) < 0) return;
      S.layerById(lid).features.forEach(function (p) {
        var m = S.markers[lid] && S.markers[lid][p.id];
        if (m && S.pointVisible(lid, p) && m.getLatLng().equals(latlng, 1e-6)) out.push([lid, p]);
      });
    });
    return out;
  }

  function openList(latlng, items) {
    var box = S.el("div", { class: "atl-list" });
    box.appendChild(S.el("div", { class: "atl-title" }, S.U.here.replace("{n}", items.length)));
    var approx = items.some(function (it) { return it[1].approx; });
    if (approx) box.appendChild(S.el("div", { class: "atl-muted" }, S.U.here_note));
    var ol = S.el("ol", {});
    items.forEach(function (it) {
      var lid = it[0], p = it[1];
      var li = S.el("li", {});
      var a = S.el("a", { href: "#", "data-layer": lid, "data-id": String(p.id) }, p.name || String(p.id));
      a.addEventListener("click", function (e) {
        e.preventDefault();
        L.popup(S.popupOptions()).setLatLng(latlng).setContent(p.pop).openOn(S.map);
        S.select(lid, p.id);
      });
      li.appendChild(a);
      var secs = p.sec.map(function (c) { var s = S.D.sectors.filter(function (x) { return x.code === c; })[0]; return s ? s.name : c; });
      li.appendChild(S.el("div", { class: "atl-muted" },
        [lid === "parks" ? S.U.kind_park : S.U.kind_project].concat(secs.slice(0, 2)).join(" · ") +
        (p.prec ? " · " + (S.U["prec_" + p.prec] || p.prec) : "")));
      ol.appendChild(li);
    });
    box.appendChild(ol);
    L.popup(S.popupOptions()).setLatLng(latlng).setContent(box).openOn(S.map);
  }

  function pointClick(m, lid, p) {
    var here = colocated(m.getLatLng());
    if (here.length > 1) openList(m.getLatLng(), here);
    else m.openPopup();
  }

  function buildPoints(lay) {
    var pane = "atl-" + lay.id;
    if (!S.map.getPane(pane)) S.map.createPane(pane).style.zIndex = lay.id === "parks" ? 620 : 610;
    var group = L.markerClusterGroup({
      maxClusterRadius: 36, showCoverageOnHover: false, spiderfyOnMaxZoom: false,
      zoomToBoundsOnClick: false, clusterPane: pane,
      iconCreateFunction: function (cl) {
        var n = cl.getChildCount();
        var d = S.el("div", { class: "atl-cl atl-cl-" + lay.id }, n);
        return L.divIcon({ html: d.outerHTML, className: "atl-cl-wrap", iconSize: [28, 28] });
      }
    });
    group.on("clusterclick", function (e) {
      var kids = e.layer.getAllChildMarkers(), at = kids[0].getLatLng();
      var one = kids.every(function (k) { return k.getLatLng().equals(at, 1e-6); });
      if (one || S.map.getZoom() >= S.map.getMaxZoom()) openList(one ? at : e.layer.getLatLng(),
        one ? colocated(at) : kids.map(function (k) { return [lay.id, k.feature.properties]; }));
      else e.layer.zoomToBounds({ padding: [30, 30] });
    });
    S.markers[lay.id] = {};
    lay.features.forEach(function (p) {
      if (!p.xy) return;
      var m = L.marker(p.xy, { icon: symbol(lay.id, p), keyboard: true, title: "", pane: pane });
      m.bindPopup(p.pop, S.popupOptions());
      m.off("click", m._openPopup);  // a click lists what shares the point (pointClick)
      m.on("click", function () { pointClick(m, lay.id, p); });
      m.on("keypress", function (e) { if (e.originalEvent.key === "Enter") pointClick(m, lay.id, p); });
      m.bindTooltip(p.tip, { direction: "top", offset: [0, -8] });
      m.feature = { properties: p };
      m.on("popupopen", function () { S.select(lay.id, p.id); });
      m.on("popupclose", function () { S.unselect(lay.id, p.id); });
      S.markers[lay.id][p.id] = m;
    });
    S.groups[lay.id] = group;
    refreshPoints(lay.id);
  }

  function refreshPoints(lid) {
    if (S.tiled[lid]) { S.redrawTiles(lid); return; }  // drawn from vector tiles (tiles.js)
    var lay = S.layerById(lid), group = S.groups[lid];
    group.clearLayers();
    group.addLayers(lay.features.filter(function (p) { return S.markers[lid][p.id] && S.pointVisible(lid, p); })
      .map(function (p) { return S.markers[lid][p.id]; }));
  }

  // what the other parts call
  S.symbol = symbol;
  S.buildPoints = buildPoints;
  S.refreshPoints = refreshPoints;
  S.colocated = colocated;
  S.openList = openList;
})(window.AtlasMap);
