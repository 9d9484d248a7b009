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
  // The symbol table is the server's (layers/style.py, S.D.style.symbols: shape and size across,
  // in pixels), the one print and the offline page size theirs from.
  function symbolKey(lid, p) {
    if (lid === "projects") return "project";
    return p.level === "national" || p.level === "provincial" ? p.level : "park";
  }

  // the shape `size` px across, centred in a box `box` px wide, as SVG
  function shapeSvg(shape, size, box, paint) {
    var c = box / 2, r = size / 2, pts = [];
    if (shape === "circle") return '<circle cx="' + c + '" cy="' + c + '" r="' + r + '"' + paint + "/>";
    if (shape === "square") return '<rect x="' + (c - r) + '" y="' + (c - r) + '" width="' + size + '" height="' + size + '"' + paint + "/>";
    if (shape === "diamond") pts = [[c, c - r], [c + r, c], [c, c + r], [c - r, c]];
    else {  // a five-pointed star as wide as `size`, its inner points as print's (0.382)
      var R = r / Math.cos(Math.PI / 10), cy = c + R * (1 - Math.cos(Math.PI / 5)) / 2;
      for (var i = 0; i < 10; i++) {
        var a = -Math.PI / 2 + i * Math.PI / 5, d = i % 2 ? R * 0.382 : R;
        pts.push([c + d * Math.cos(a), cy + d * Math.sin(a)]);
      }
    }
    return '<polygon points="' + pts.map(function (q) { return q[0].toFixed(1) + "," + q[1].toFixed(1); }).join(" ") + '"' + paint + "/>";
  }

  function symbol(lid, p) {
    var st = S.D.style, c = S.colour(p.color), hollow = p.approx;
    var sym = st.symbols[symbolKey(lid, p)], line = hollow ? st.hollow : st.solid;
    var box = Math.ceil(sym.size + st.hollow.width + 2);  // room for the widest outline
    var paint = ' fill="' + (hollow ? S.colour(st.hollow_fill) : c) + '" stroke="' + (line.colour ? S.colour(line.colour) : c) +
      '" stroke-width="' + line.width + '"' + (line.dash ? ' stroke-dasharray="' + line.dash + '"' : "");
    // a zone found only in the national catalogue is drawn faded (p.doc is false)
    var faded = lid === "parks" && p.doc === false ? ' opacity="' + st.catalogue_opacity + '"' : "";
    var svg = '<svg xmlns="http://www.w3.org/2000/svg" width="' + box + '" height="' + box + '" viewBox="0 0 ' + box + " " + box + '"' + faded + ">" +
      shapeSvg(sym.shape, sym.size, box, paint) + "</svg>";
    return L.divIcon({ className: "atl-mk atl-mk-" + lid + (hollow ? " atl-hollow" : ""), html: svg, iconSize: [box, box] });
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

  // One point's marker: its symbol, tooltip and popup; a click lists what shares its point.
  // The offline map file makes its markers with it too (static/atlas/offline.js).
  function pointMarker(lid, p, pane) {
    var m = L.marker(p.xy, { icon: symbol(lid, p), keyboard: true, title: "", pane: pane });
    m.bindPopup(p.pop, S.popupOptions());
    m.off("click", m._openPopup);  // a click lists what shares the point (pointClick)
    m.on("click", function () { pointClick(m, lid, p); });
    m.on("keypress", function (e) { if (e.originalEvent.key === "Enter") pointClick(m, lid, p); });
    m.bindTooltip(p.tip, { direction: "top", offset: [0, -8] });
    m.feature = { properties: p, layer: lid };
    m.on("popupopen", function () { S.select(lid, p.id); });
    m.on("popupclose", function () { S.unselect(lid, p.id); });
    return m;
  }

  // A click on a group of markers: the list when they share one point (or the map zooms no
  // further), else a zoom to them.
  function groupClick(e) {
    var kids = e.layer.getAllChildMarkers(), at = kids[0].getLatLng();
    var one = kids.every(function (k) { return k.getLatLng().equals(at, 1e-6); });
    if (one || S.map.getZoom() >= S.map.getMaxZoom()) openList(one ? at : e.layer.getLatLng(),
      one ? colocated(at) : kids.map(function (k) { return [k.feature.layer, k.feature.properties]; }));
    else e.layer.zoomToBounds({ padding: [30, 30] });
  }

  // How markers near each other are grouped (Leaflet.markercluster), here and in the offline file.
  function groupOptions(pane, icon) {
    return { maxClusterRadius: 36, showCoverageOnHover: false, spiderfyOnMaxZoom: false,
             zoomToBoundsOnClick: false, clusterPane: pane, iconCreateFunction: icon };
  }

  function buildPoints(lay) {
    var pane = "atl-" + lay.id;
    if (!S.map.getPane(pane)) S.map.createPane(pane).style.zIndex = lay.id === "parks" ? 620 : 610;
    var group = L.markerClusterGroup(groupOptions(pane, function (cl) {
      var n = cl.getChildCount();
      var d = S.el("div", { class: "atl-cl atl-cl-" + lay.id }, n);
      return L.divIcon({ html: d.outerHTML, className: "atl-cl-wrap", iconSize: [28, 28] });
    }));
    group.on("clusterclick", groupClick);
    S.markers[lay.id] = {};
    lay.features.forEach(function (p) {
      if (p.xy) S.markers[lay.id][p.id] = pointMarker(lay.id, p, pane);
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
  S.pointMarker = pointMarker;
  S.groupClick = groupClick;
  S.groupOptions = groupOptions;
  S.buildPoints = buildPoints;
  S.refreshPoints = refreshPoints;
  S.colocated = colocated;
  S.openList = openList;
})(window.AtlasMap);
