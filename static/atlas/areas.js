/* Hubei Cluster Atlas · the interactive map, part "areas": polygons and lines fetched per zoom tier, their redraws, a retry when a fetch fails; layer visibility and city labels.
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

  // ------------------------------------------------------------------ polygons and lines
  function tierFor(lay) {
    if (!lay.tiers.length) return null;
    if (lay.tiers.length === 1) return lay.tiers[0];
    return S.map.getZoom() >= S.D.tierMinZoom.mid ? "mid" : "lo";
  }

  function fetchGeometry(lid, tier) {
    var key = lid + "/" + tier;
    if (S.geoms[key]) return Promise.resolve(S.geoms[key]);
    S.pending++;
    var url = S.D.urls.geometry + lid + "/" + tier + ".json" + (S.D.datum !== "wgs84" ? "?datum=" + S.D.datum : "");
    return fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(url + ": " + r.status); return r.json(); })
      .then(function (payload) { S.geoms[key] = payload; clearFailure(lid); return payload; })
      .catch(function (err) { showFailure(lid); throw err; })
      .finally(function () { S.pending--; S.checkReady(); });
  }

  // A layer whose geometry could not be fetched says so, with a retry, instead of staying blank.
  var failed = {};
  function showFailure(lid) {
    failed[lid] = true;
    var box = S.$("atl-fail");
    if (!box) {
      box = S.el("div", { id: "atl-fail", role: "alert", class: "atl-fail" });
      S.map.getContainer().appendChild(box);
      L.DomEvent.disableClickPropagation(box);
    }
    box.textContent = "";
    var names = Object.keys(failed).map(function (id) { return S.layerById(id).title; });
    box.appendChild(S.el("span", {}, S.U.fetch_failed + "：" + names.join("、")));
    var retry = S.el("button", { type: "button", class: "atl-btn", id: "atl-retry" }, S.U.retry);
    retry.addEventListener("click", function () {
      Object.keys(failed).forEach(function (id) { drawArea(id).catch(function () {}); });
    });
    box.appendChild(retry);
  }
  function clearFailure(lid) {
    delete failed[lid];
    var box = S.$("atl-fail");
    if (box && !Object.keys(failed).length) box.remove();
  }

  function drawArea(lid) {
    var lay = S.layerById(lid), tier = tierFor(lay);
    if (S.tiled[lid]) return Promise.resolve();  // drawn from vector tiles (tiles.js)
    if (S.state.l.indexOf(lid) < 0 && !(lid === "provinces" && S.state.base === "none")) return Promise.resolve();
    return fetchGeometry(lid, tier).then(function (payload) {
      if (tierFor(lay) !== tier) return;  // the zoom moved on meanwhile
      var feats = [];
      payload.keys.forEach(function (k, i) {
        var p = S.props[lid][k];
        if (p && payload.geoms[i] && S.areaVisible(lid, p)) {
          feats.push({ type: "Feature", properties: p, geometry: payload.geoms[i] });
        }
      });
      var interactive = S.state.l.indexOf(lid) >= 0;
      var gj = L.geoJSON({ type: "FeatureCollection", features: feats }, {
        style: S.polygonStyle(lid), interactive: interactive,
        onEachFeature: function (f, layer) {
          if (!interactive) return;
          layer.bindPopup(f.properties.pop, S.popupOptions());
          layer.bindTooltip(f.properties.tip, { sticky: true });
          layer.on("popupopen", function () { S.select(lid, f.properties.id); });
          layer.on("popupclose", function () { S.unselect(lid, f.properties.id); });
        }
      });
      // a popup open on the old drawing (a city picked from search, a shared link) moves to
      // the same feature of the new drawing instead of closing with it
      var open = null;
      if (S.drawn[lid]) S.drawn[lid].eachLayer(function (l) {
        if (l.isPopupOpen && l.isPopupOpen()) open = { id: l.feature.properties.id, at: l.getPopup().getLatLng() };
      });
      var group = S.groups[lid];
      S.redrawing = true;
      group.clearLayers();
      S.redrawing = false;
      group.addLayer(gj);
      S.drawn[lid] = gj;
      if (open) gj.eachLayer(function (l) { if (l.feature.properties.id === open.id) l.openPopup(open.at); });
      gj.eachLayer(function (l) { var e = l.getElement && l.getElement(); if (e) e.classList.add("atl-f-" + lid); });
      orderLayers();
    }).catch(function () { /* showFailure() has told the user and offers a retry */ });
  }

  function restyle(lid) {
    if (S.tiled[lid]) S.redrawTiles(lid);
    else if (S.drawn[lid]) S.drawn[lid].setStyle(S.polygonStyle(lid));
  }

  // ------------------------------------------------------------------ layer visibility
  function applyVisibility() {
    S.D.layers.forEach(function (lay) {
      var on = S.state.l.indexOf(lay.id) >= 0 || (lay.id === "provinces" && S.state.base === "none");
      var g = S.groups[lay.id];
      if (on && !S.map.hasLayer(g)) S.map.addLayer(g);
      if (!on && S.map.hasLayer(g)) S.map.removeLayer(g);
      if (on && lay.geom !== "point") drawArea(lay.id);
    });
    syncLabels();
    orderLayers();
    S.renderLegend();
  }

  function syncLabels() {
    var show = S.labels && S.state.l.indexOf("cities") >= 0 && S.map.getZoom() >= 6;
    if (show && !S.map.hasLayer(S.labels)) S.map.addLayer(S.labels);
    if (!show && S.labels && S.map.hasLayer(S.labels)) S.map.removeLayer(S.labels);
  }

  // City names at their label point, below it (a point there may carry the city's features).
  function buildLabels() {
    S.labels = L.layerGroup();
    var cities = S.layerById("cities");  // drawn from tiles, the cities' labels come in `extra`
    (cities.tiles ? Object.keys(cities.extra).map(function (k) { return cities.extra[k]; }) : cities.features).forEach(function (p) {
      if (!p.lxy || !p.name) return;
      var span = S.el("span", {}, p.name);
      L.marker(p.lxy, { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "atl-city-label", html: span.outerHTML, iconSize: null, iconAnchor: [0, -12] })
      }).addTo(S.labels);
    });
  }

  // Bottom to top. The province outline lies under the cities, so a click inside Hubei reaches
  // a city (or a county, or a cluster when those are switched on), never the province.
  function orderLayers() {
    ["provinces", "cities", "counties", "clusters", "cluster_lines"].forEach(function (lid) {
      if (S.map.hasLayer(S.groups[lid]) && S.drawn[lid]) S.drawn[lid].bringToFront();
    });
  }

  // what the other parts call
  S.drawArea = drawArea;
  S.restyle = restyle;
  S.applyVisibility = applyVisibility;
  S.syncLabels = syncLabels;
  S.buildLabels = buildLabels;
})(window.AtlasMap);
