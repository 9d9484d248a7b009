/* Hubei Cluster Atlas · the interactive map, part "main": hooks for the tests, start-up (AtlasMap.init).
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

  // ------------------------------------------------------------------ counts for tests
  A.drawnCounts = function () {
    var out = {};
    S.D.layers.forEach(function (lay) {
      if (!S.map.hasLayer(S.groups[lay.id])) { out[lay.id] = 0; return; }
      if (lay.tiles) out[lay.id] = S.tileCount(lay.id);
      else if (lay.geom === "point") out[lay.id] = S.groups[lay.id].getLayers().length;
      else out[lay.id] = S.drawn[lay.id] ? S.drawn[lay.id].getLayers().length : 0;
    });
    return out;
  };
  A.map = function () { return S.map; };
  A.clusterAlong = function () { return S.D.cluster ? { parks: S.D.cluster.parks, projects: S.D.cluster.projects } : null; };
  A.layerFeatures = function (lid) { return S.layerById(lid).features; };
  A.state = function () { return S.state; };

  // ------------------------------------------------------------------ start
  A.init = function (m, data) {
    S.map = m;
    S.D = data;
    S.U = S.D.ui;
    S.state = S.readState();
    // markercluster needs a max zoom (without tiles Leaflet has none). Without a tile base map
    // nothing gets sharper past 12, and co-located points spiderfy there instead of at 17.
    S.map.setMaxZoom(S.D.base === "none" ? 12 : 17);
    S.map.setMinZoom(4);
    S.D.layers.forEach(function (lay) {
      S.props[lay.id] = {};
      lay.features.forEach(function (p) { S.props[lay.id][p.id] = p; });
    });
    if (S.state.c) S.map.setView(S.state.c, S.state.z || S.D.home.zoom);
    else if (S.state.z) S.map.setZoom(S.state.z);
    else if (S.map.getSize().x < 700) S.map.fitBounds(S.D.home.bounds);  // a phone: all of Hubei, Wuhan too
    S.setupBase();
    S.map.attributionControl.setPrefix("Leaflet");  // the default prefix carries a national flag
    S.buildLabels();
    S.D.layers.forEach(function (lay) {
      if (lay.tiles) S.buildTiles(lay);  // past the feature threshold: vector tiles (tiles.js)
      else if (lay.geom === "point") S.buildPoints(lay);
      else S.groups[lay.id] = L.featureGroup();
    });
    if (S.D.embed) S.embedControls();
    S.setupSearch();
    S.setupLayers();
    S.setupFilters();
    S.setupMeasure();
    S.setupBases();
    if (!S.D.embed) S.setupShare(S.$("atl-share"));  // an embed built its own in embedControls()
    S.setupLegend();
    S.setupCluster();
    S.setupNorth();
    // a link without a centre opens on what its view selects: an embed's frame, a cluster's
    // members, a city (print.js; beside the legend and the embed's bar)
    if (!S.state.c && (S.D.embed || S.D.cluster || S.state.city)) S.fitView();
    S.applyVisibility();
    var lastTier = null;
    S.map.on("zoomend", function () {
      var tier = S.map.getZoom() >= S.D.tierMinZoom.mid ? "mid" : "lo";
      if (tier !== lastTier) { lastTier = tier; S.applyVisibility(); } else S.syncLabels();
    });
    lastTier = S.map.getZoom() >= S.D.tierMinZoom.mid ? "mid" : "lo";
    S.map.on("moveend", S.writeState);
    if (S.state.sel && S.state.sel.indexOf(":") > 0) {
      var parts = S.state.sel.split(":");
      var lid = parts[0], raw = parts.slice(1).join(":");
      var key = S.props[lid] && (S.props[lid][raw] ? raw : (S.props[lid][Number(raw)] ? Number(raw) : null));
      if (S.layerById(lid) && S.layerById(lid).tiles) key = raw;  // fetched by id when opened
      if (key !== null && key !== undefined) A._restore = [lid, key];
    }
    S.writeState();
    S.setupPrint();
    A._initialised = true;
    S.checkReady();
  };

})(window.AtlasMap);
