/* Hubei Cluster Atlas · the interactive map, part "tiles": a layer drawn from vector tiles (Leaflet.VectorGrid) instead of the page's data, with the same symbols, styles, filters and popups.
 *
 * The map script is split along its seams into static/atlas/*.js, loaded in order by the
 * page (server/mapview.py); core.js makes the namespace AtlasMap and the state every part
 * shares (AtlasMap._, called S). Every part reads and writes the view through S and reaches
 * the other parts' functions as S.name. Popup and tooltip HTML arrive escaped by the server;
 * every other text is written with textContent.
 *
 * A layer with more features than the server's MAP_TILES_THRESHOLD comes with `tiles` (the
 * URL template of /tiles/<layer>/{z}/{x}/{y}.mvt and its zoom range) and no `features`. Each
 * tile feature's attributes (the layer's fields, server/mvt.py) are turned into the same
 * properties the page gives a GeoJSON feature (tileProps), so the one style and filter code
 * decides how it is drawn: S.symbol for points (as an SVG image), S.polygonStyle for areas,
 * S.pointVisible / S.areaVisible to hide what the filters leave out. Filters are applied here,
 * in the browser: a filter change redraws the layer from the tiles already fetched (one set of
 * tiles per build, cached by the server and the browser for any filter). A click fetches the
 * feature's tooltip and popup by id (/map/feature/<layer>/<id>.json, made by server/popups.py
 * like the page's) and opens it as a GeoJSON feature's would.
 */
(function (A) {
  "use strict";

  var S = A._;
  S.tiled = {};    // layer id -> the L.VectorGrid drawing it
  var entries = {};  // "layer/id" -> promise of the feature's entry from /map/feature
  var icons = {};    // symbol SVG -> L.icon
  var colours = null;

  function list(v) {  // a JSON field arrives as JSON text (MVT has no lists)
    if (Array.isArray(v)) return v;
    if (typeof v !== "string" || !v) return [];
    try { var x = JSON.parse(v); return Array.isArray(x) ? x : []; } catch (e) { return []; }
  }
  function sectorColour(code) {
    if (!colours) { colours = {}; S.D.sectors.forEach(function (s) { colours[s.code] = s.color; }); }
    return S.colour(colours[code]);
  }
  function orNull(v) { return v === undefined ? null : v; }

  // The properties server/viewmodel.py feature_props() gives a feature, from its tile
  // attributes; what only other layers can tell (shading, labels) comes with the page (`extra`).
  function tileProps(lid, a) {
    var lay = S.layerById(lid), sec = list(a.sectors);
    // a point's colour is its first industry's (layers/style.py lead_colour); an area's or
    // line's comes computed with the page (`extra`, assigned below)
    var p = { id: a.id, sec: sec, color: sec.length ? sectorColour(sec[0]) : S.colour(null) };
    if (lay.geom === "point") {
      p.prec = a.precision || null;
      p.approx = S.D.approx.indexOf(a.precision) >= 0;
      p.city = orNull(a.city_adcode);
      p.county = orNull(a.county_adcode);
      if (lid === "parks") {
        p.kind = a.kind || "";
        p.level = a.level || "";
        p.doc = a.named_in_documents !== false;  // false: catalogue only
      }
    } else {
      if (lid === "clusters" || lid === "cluster_lines") { p.kind = a.kind || ""; p.members = list(a.members); }
      if (lid === "cities" || lid === "counties") { p.np = a.n_parks || 0; p.nj = a.n_projects || 0; }
      if (lid === "provinces") p.city = null;
      Object.assign(p, (lay.extra || {})[String(a.id)] || {});
    }
    return p;
  }

  // S.symbol's SVG as an image the tile renderer can place
  function icon(lid, p) {
    var div = S.symbol(lid, p), url = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(div.options.html);
    return icons[url] || (icons[url] = L.icon({ iconUrl: url, iconSize: div.options.iconSize }));
  }

  function styleFor(lid) {
    var lay = S.layerById(lid);
    if (lay.geom === "point") {
      return function (a) {
        var p = tileProps(lid, a);
        if (!S.pointVisible(lid, p)) return [];  // hidden by a filter: not drawn
        // radius > 10: Leaflet then places the event where the mouse is (a symbolizer has no latlng)
        return { icon: icon(lid, p), radius: 11 };
      };
    }
    var style = S.polygonStyle(lid);
    return function (a) {
      var p = tileProps(lid, a);
      if (!S.areaVisible(lid, p)) return [];
      return Object.assign({ fill: lay.geom === "polygon" }, style({ properties: p }));
    };
  }

  function entryUrl(lid, id) {
    var q = "?lang=" + encodeURIComponent(S.D.lang) + (S.D.base !== "none" ? "&base=" + encodeURIComponent(S.D.base) : "");
    return S.D.urls.feature + encodeURIComponent(lid) + "/" + encodeURIComponent(String(id)) + ".json" + q;
  }

  function fetchEntry(lid, id) {
    var key = lid + "/" + id;
    if (!entries[key]) {
      entries[key] = fetch(entryUrl(lid, id), { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(lid + " " + id + ": " + r.status); return r.json(); })
        .catch(function (err) { delete entries[key]; throw err; });
    }
    return entries[key];
  }

  // The features drawn at the same spot in the same tile, in every tiled point layer.
  function sameSpot(sym) {
    var out = [], coord = sym._renderer.getCoord();
    Object.keys(S.tiled).forEach(function (lid) {
      var grid = S.tiled[lid];
      if (S.layerById(lid).geom !== "point" || !S.map.hasLayer(grid)) return;
      var tile = grid._vectorTiles && grid._vectorTiles[grid._tileCoordsToKey(coord)];
      Object.keys((tile && tile._features) || {}).forEach(function (id) {
        var f = tile._features[id].feature;
        if (f._point && f._point.equals(sym._point)) out.push([lid, f.properties.id]);
      });
    });
    return out;
  }

  function popupAt(lid, p, latlng) {
    var pop = L.popup(S.popupOptions()).setLatLng(latlng).setContent(p.pop);
    pop.on("remove", function () { S.unselect(lid, p.id); });
    pop.openOn(S.map);
    S.select(lid, p.id);
    return pop;
  }

  // A click: the feature's popup, or — for points that share one spot — the list of them all
  // (the GeoJSON layers' list, with any of their markers there too).
  function clicked(lid, e) {
    var id = e.layer.properties.id;
    if (S.state.l.indexOf(lid) < 0) return;  // the province outline under an empty base map
    fetchEntry(lid, id).then(function (p) {
      if (S.layerById(lid).geom !== "point") { popupAt(lid, p, e.latlng); return; }
      var at = L.latLng(p.xy), others = sameSpot(e.layer).filter(function (x) { return !(x[0] === lid && String(x[1]) === String(id)); });
      return Promise.all(others.map(function (x) {
        return fetchEntry(x[0], x[1]).then(function (q) { return [x[0], q]; }, function () { return null; });
      })).then(function (found) {
        var here = [[lid, p]].concat(found.filter(function (x) { return x && x[1].xy && at.equals(x[1].xy, 1e-6); }));
        here = here.concat(S.colocated(at));
        if (here.length > 1) S.openList(at, here);
        else popupAt(lid, p, at);
      });
    }).catch(function () { /* the feature could not be fetched: nothing opens */ });
  }

  var hover = null;
  function hovered(lid, e) {
    if (S.state.l.indexOf(lid) < 0) return;
    var key = lid + "/" + e.layer.properties.id;
    hover = key;
    fetchEntry(lid, e.layer.properties.id).then(function (p) {
      if (hover !== key) return;
      var point = S.layerById(lid).geom === "point";
      S.map.openTooltip(p.tip, point ? L.latLng(p.xy) : e.latlng, { direction: "top", offset: [0, point ? -8 : 0] });
    }).catch(function () {});
  }
  function left() { hover = null; S.map.eachLayer(function (l) { if (l instanceof L.Tooltip) S.map.closeTooltip(l); }); }

  function buildTiles(lay) {
    var lid = lay.id, pane = "atl-" + lid, t = lay.tiles;
    // points above areas, parks above projects (as with markers); areas in layer order above the page's own
    var z = { parks: 620, projects: 610, cluster_lines: 455, clusters: 454, counties: 453, cities: 452, provinces: 451 }[lid] || 450;
    if (!S.map.getPane(pane)) S.map.createPane(pane).style.zIndex = z;
    var styles = {};
    styles[lid] = styleFor(lid);
    var grid = L.vectorGrid.protobuf(t.url, {
      pane: pane, className: "atl-tiles atl-tiles-" + lid, interactive: true,
      vectorTileLayerStyles: styles, minNativeZoom: t.minzoom, maxNativeZoom: t.maxzoom,
      getFeatureId: function (f) { return f.properties.id; },
      fetchOptions: { credentials: "same-origin" }
    });
    // a tile that cannot be fetched is drawn empty (VectorGrid would wait for it for ever)
    var fetchTile = grid._getVectorTilePromise;
    grid._getVectorTilePromise = function (coords) {
      return fetchTile.call(this, coords).catch(function () { return { layers: {} }; });
    };
    grid.on("click", function (e) { clicked(lid, e); });
    grid.on("mouseover", function (e) { hovered(lid, e); });
    grid.on("mouseout", left);
    // the page is ready once the tiles in view are drawn
    grid.on("loading", function () { S.pending++; });
    grid.on("load", function () { S.pending--; S.checkReady(); });
    S.tiled[lid] = grid;
    S.groups[lid] = grid;
  }

  // the filters or the shading changed: draw again from the tiles (the browser has them)
  function redrawTiles(lid) {
    var grid = S.tiled[lid];
    if (!grid) return;
    grid.options.vectorTileLayerStyles[lid] = styleFor(lid);
    if (S.map.hasLayer(grid)) grid.redraw();
  }

  // how many features are drawn (ids in the loaded tiles), for the tests
  function tileCount(lid) {
    var grid = S.tiled[lid], ids = {};
    if (!grid || !S.map.hasLayer(grid)) return 0;
    Object.keys(grid._vectorTiles || {}).forEach(function (k) {
      Object.keys(grid._vectorTiles[k]._features || {}).forEach(function (id) { ids[id] = true; });
    });
    return Object.keys(ids).length;
  }

  // search, the cluster panel and a shared link open a tiled feature by id
  function openTiled(lid, id, move) {
    return fetchEntry(lid, id).then(function (p) {
      var point = S.layerById(lid).geom === "point";
      if (point && !S.pointVisible(lid, p)) S.clearFilters();
      var at = L.latLng(point ? p.xy : p.at);
      if (move) {
        if (p.bounds) S.map.fitBounds(p.bounds, { maxZoom: 10 });
        else S.map.setView(at, Math.max(S.map.getZoom(), 10));
      }
      return popupAt(lid, p, at);
    }).catch(function () {});
  }

  // what the other parts call
  S.buildTiles = buildTiles;
  S.redrawTiles = redrawTiles;
  S.tileCount = tileCount;
  S.openTiled = openTiled;
  S.tileProps = tileProps;
})(window.AtlasMap);
