/* Hubei Cluster Atlas: the interactive map (Leaflet, drawn into the map folium built).
 *
 * Everything comes from the JSON in #atlas-data (server/mapview.py). Popup and tooltip HTML
 * arrive escaped by the server; every other text is written with textContent. The view
 * (centre, zoom, layers, filters, shading, selection, language, base map) lives in the query
 * string, so a copied link reopens the same view. No request leaves the app unless a tile
 * base map is chosen.
 */
(function () {
  "use strict";

  var A = (window.AtlasMap = { ready: false });
  var D, U, map, state;
  var groups = {};      // layer id -> Leaflet group drawn on the map
  var props = {};       // layer id -> {feature id -> properties}
  var markers = {};     // point layer id -> {feature id -> marker}
  var geoms = {};       // "layer/tier" -> payload from /map/geometry
  var drawn = {};       // polygon layer id -> L.geoJSON currently drawn
  var pending = 0;
  var redrawing = false;  // a polygon layer is being replaced: its popups reopen on the new one
  var labels = null;      // city name labels (a layer group), shown with the cities
  var QUERY_KEYS = ["lang", "base", "c", "z", "l", "sector", "city", "kind", "level", "named", "measure", "sel",
                    "legend", "filters"];
  var SHADES = ["#fff7bc", "#fee391", "#fec44f", "#fe9929", "#d95f0e", "#993404"];
  var HEX = /^#[0-9a-fA-F]{6}$/;

  // ------------------------------------------------------------------ small helpers
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function $(id) { return document.getElementById(id); }
  function layerById(id) { return D.layers.filter(function (l) { return l.id === id; })[0]; }
  function colour(c) { return HEX.test(c || "") ? c : "#777777"; }

  // ------------------------------------------------------------------ the view in the URL
  function readState() {
    var q = new URLSearchParams(window.location.search);
    var s = {
      lang: D.lang, base: D.base,
      l: q.has("l") ? q.get("l").split(",").filter(function (x) { return !!layerById(x); }) : D.visible.slice(),
      sector: q.get("sector") || "", city: q.get("city") || "", kind: q.get("kind") || "",
      level: q.get("level") || "", named: q.get("named") || "", measure: q.get("measure") || "none", sel: q.get("sel") || "",
      legend: q.get("legend") || "", filters: q.get("filters") || "",  // embeds: legend open, filter line shown
      c: null, z: null
    };
    var c = (q.get("c") || "").split(",").map(Number);
    if (c.length === 2 && isFinite(c[0]) && isFinite(c[1])) s.c = c;
    var z = parseInt(q.get("z"), 10);
    if (isFinite(z)) s.z = z;
    return s;
  }

  function query(extra) {
    var c = map.getCenter();
    var s = Object.assign({}, state, { c: c.lat.toFixed(4) + "," + c.lng.toFixed(4), z: map.getZoom() }, extra || {});
    var q = new URLSearchParams();
    QUERY_KEYS.forEach(function (k) {
      var v = k === "l" ? s.l.join(",") : s[k];
      if (k === "lang" && v === "zh") return;
      if (k === "base" && v === "none") return;
      if (k === "measure" && v === "none") return;
      if (v !== "" && v !== null && v !== undefined) q.set(k, v);
    });
    return q.toString();
  }

  function writeState() {
    var qs = query();
    window.history.replaceState(null, "", window.location.pathname + "?" + qs);
    var lang = $("atl-lang");
    if (lang) lang.href = "?" + query({ lang: state.lang === "zh" ? "en" : "zh" });
    updateShare();
  }

  // ------------------------------------------------------------------ styles and filters
  function pointVisible(lid, p) {
    if (D.cluster) {
      var along = lid === "parks" ? D.cluster.parks : D.cluster.projects;
      if (along.indexOf(p.id) < 0) return false;
    }
    if (state.sector && p.sec.indexOf(state.sector) < 0) return false;
    if (state.city && String(p.city) !== state.city) return false;
    if (lid === "parks") {
      if (state.kind && p.kind !== state.kind) return false;
      if (state.level && p.level !== state.level) return false;
      if (state.named && (state.named === "doc") !== p.doc) return false;  // doc | cat
    }
    return true;
  }

  function areaVisible(lid, p) {
    if (lid !== "clusters" && lid !== "cluster_lines") return true;
    if (D.cluster) return p.id === D.cluster.id;  // the focused cluster alone
    if (state.sector && p.sec.indexOf(state.sector) < 0) return false;
    if (state.city && p.cities.indexOf(Number(state.city)) < 0) return false;
    return true;
  }

  function breaks(values) {
    var max = Math.max.apply(null, values.concat([0]));
    var b = [0, 1, 2, 4, 8, 16, 32];
    if (max > 32) b = [0, 1].concat([0.1, 0.25, 0.5, 0.75].map(function (f) { return Math.ceil(max * f); }));
    return b.filter(function (x, i) { return i < 6 && (x <= max || i < 2); });
  }

  function shadeFor(p) {
    var m = state.measure;
    if (m === "n_parks" || m === "n_projects") {
      var v = m === "n_parks" ? p.np : p.nj;
      var b = A._breaks;
      var k = 0;
      for (var i = 0; i < b.length; i++) if (v >= b[i]) k = i;
      return v === 0 ? { fillColor: "#ffffff", fillOpacity: 0.35 } : { fillColor: SHADES[Math.min(k, 5)], fillOpacity: 0.7 };
    }
    if (m.indexOf("sector:") === 0) {
      var has = (p.sx || []).indexOf(m.slice(7)) >= 0;
      return has ? { fillColor: "#d95f0e", fillOpacity: 0.55 } : { fillColor: "#ffffff", fillOpacity: 0.35 };
    }
    return null;
  }

  function polygonStyle(lid) {
    var base = layerById(lid).style || {};
    return function (f) {
      var p = f.properties;
      var s = Object.assign({ color: "#555", weight: 1, fillOpacity: 0, opacity: 1 }, base);
      if (lid === "cities") {
        var shade = shadeFor(p);
        if (shade) Object.assign(s, shade);
        if (state.city && String(p.id) === state.city) Object.assign(s, { color: "#c51b7d", weight: 3 });
        if (D.cluster) {
          var member = D.cluster.members.some(function (m) { return m.adcode === p.id; });
          Object.assign(s, member ? { color: "#b2182b", weight: 2.5, fillColor: "#fddbc7", fillOpacity: 0.55 }
            : { fillColor: "#eeeeee", fillOpacity: 0.5, color: "#999" });
        }
      } else if (lid === "counties" && D.cluster) {
        var inIt = D.cluster.members.some(function (m) { return m.adcode === p.id; });
        if (inIt) Object.assign(s, { color: "#b2182b", weight: 2, fillColor: "#fddbc7", fillOpacity: 0.5 });
      } else if (lid === "clusters" || lid === "cluster_lines") {
        var c = colour(p.color);
        Object.assign(s, { color: c, fillColor: c });
        if (D.cluster) Object.assign(s, lid === "cluster_lines" ? { weight: 6, opacity: 0.9 }
          : { weight: 3, opacity: 1, fillOpacity: 0.08, dashArray: "8 5" });
      }
      return s;
    };
  }

  // Popups fit the map: on a phone they are narrower than the screen, so the close button stays
  // on it (the content box is the width plus 44 px of margins), and autopan keeps them clear of the edges.
  function popupOptions() {
    var size = map.getSize();
    return { maxWidth: Math.max(160, Math.min(380, size.x - 120)), minWidth: Math.min(220, size.x - 120),
             maxHeight: Math.max(160, Math.min(440, size.y - 90)), autoPanPadding: [12, 12] };
  }

  // ------------------------------------------------------------------ point markers
  function symbol(lid, p) {
    var c = colour(p.color), hollow = p.approx;
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

  // Features that share one point (a county's or city's representative point) open as one
  // list — name, kind, industry, precision — each entry opening its own popup, instead of a
  // spider of spokes. Parks are drawn in a pane above projects, so neither hides the other's
  // list, and a click on any of them lists both.
  function colocated(latlng) {
    var out = [];
    ["parks", "projects"].forEach(function (lid) {
      if (state.l.indexOf(lid) < 0) return;
      layerById(lid).features.forEach(function (p) {
        var m = markers[lid] && markers[lid][p.id];
        if (m && pointVisible(lid, p) && m.getLatLng().equals(latlng, 1e-6)) out.push([lid, p]);
      });
    });
    return out;
  }

  function openList(latlng, items) {
    var box = el("div", { class: "atl-list" });
    box.appendChild(el("div", { class: "atl-title" }, U.here.replace("{n}", items.length)));
    var approx = items.some(function (it) { return it[1].approx; });
    if (approx) box.appendChild(el("div", { class: "atl-muted" }, U.here_note));
    var ol = el("ol", {});
    items.forEach(function (it) {
      var lid = it[0], p = it[1];
      var li = el("li", {});
      var a = el("a", { href: "#", "data-layer": lid, "data-id": String(p.id) }, p.name || String(p.id));
      a.addEventListener("click", function (e) {
        e.preventDefault();
        L.popup(popupOptions()).setLatLng(latlng).setContent(p.pop).openOn(map);
        select(lid, p.id);
      });
      li.appendChild(a);
      var secs = p.sec.map(function (c) { var s = D.sectors.filter(function (x) { return x.code === c; })[0]; return s ? s.name : c; });
      li.appendChild(el("div", { class: "atl-muted" },
        [lid === "parks" ? U.kind_park : U.kind_project].concat(secs.slice(0, 2)).join(" · ") +
        (p.prec ? " · " + (U["prec_" + p.prec] || p.prec) : "")));
      ol.appendChild(li);
    });
    box.appendChild(ol);
    L.popup(popupOptions()).setLatLng(latlng).setContent(box).openOn(map);
  }

  function pointClick(m, lid, p) {
    var here = colocated(m.getLatLng());
    if (here.length > 1) openList(m.getLatLng(), here);
    else m.openPopup();
  }

  function buildPoints(lay) {
    var pane = "atl-" + lay.id;
    if (!map.getPane(pane)) map.createPane(pane).style.zIndex = lay.id === "parks" ? 620 : 610;
    var group = L.markerClusterGroup({
      maxClusterRadius: 36, showCoverageOnHover: false, spiderfyOnMaxZoom: false,
      zoomToBoundsOnClick: false, clusterPane: pane,
      iconCreateFunction: function (cl) {
        var n = cl.getChildCount();
        var d = el("div", { class: "atl-cl atl-cl-" + lay.id }, n);
        return L.divIcon({ html: d.outerHTML, className: "atl-cl-wrap", iconSize: [28, 28] });
      }
    });
    group.on("clusterclick", function (e) {
      var kids = e.layer.getAllChildMarkers(), at = kids[0].getLatLng();
      var one = kids.every(function (k) { return k.getLatLng().equals(at, 1e-6); });
      if (one || map.getZoom() >= map.getMaxZoom()) openList(one ? at : e.layer.getLatLng(),
        one ? colocated(at) : kids.map(function (k) { return [lay.id, k.feature.properties]; }));
      else e.layer.zoomToBounds({ padding: [30, 30] });
    });
    markers[lay.id] = {};
    lay.features.forEach(function (p) {
      if (!p.xy) return;
      var m = L.marker(p.xy, { icon: symbol(lay.id, p), keyboard: true, title: "", pane: pane });
      m.bindPopup(p.pop, popupOptions());
      m.off("click", m._openPopup);  // a click lists what shares the point (pointClick)
      m.on("click", function () { pointClick(m, lay.id, p); });
      m.on("keypress", function (e) { if (e.originalEvent.key === "Enter") pointClick(m, lay.id, p); });
      m.bindTooltip(p.tip, { direction: "top", offset: [0, -8] });
      m.feature = { properties: p };
      m.on("popupopen", function () { select(lay.id, p.id); });
      m.on("popupclose", function () { unselect(lay.id, p.id); });
      markers[lay.id][p.id] = m;
    });
    groups[lay.id] = group;
    refreshPoints(lay.id);
  }

  function refreshPoints(lid) {
    var lay = layerById(lid), group = groups[lid];
    group.clearLayers();
    group.addLayers(lay.features.filter(function (p) { return markers[lid][p.id] && pointVisible(lid, p); })
      .map(function (p) { return markers[lid][p.id]; }));
  }

  // ------------------------------------------------------------------ polygons and lines
  function tierFor(lay) {
    if (!lay.tiers.length) return null;
    if (lay.tiers.length === 1) return lay.tiers[0];
    return map.getZoom() >= D.tierMinZoom.mid ? "mid" : "lo";
  }

  function fetchGeometry(lid, tier) {
    var key = lid + "/" + tier;
    if (geoms[key]) return Promise.resolve(geoms[key]);
    pending++;
    var url = D.urls.geometry + lid + "/" + tier + ".json" + (D.datum !== "wgs84" ? "?datum=" + D.datum : "");
    return fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(url + ": " + r.status); return r.json(); })
      .then(function (payload) { geoms[key] = payload; clearFailure(lid); return payload; })
      .catch(function (err) { showFailure(lid); throw err; })
      .finally(function () { pending--; checkReady(); });
  }

  // A layer whose geometry could not be fetched says so, with a retry, instead of staying blank.
  var failed = {};
  function showFailure(lid) {
    failed[lid] = true;
    var box = $("atl-fail");
    if (!box) {
      box = el("div", { id: "atl-fail", role: "alert", class: "atl-fail" });
      map.getContainer().appendChild(box);
      L.DomEvent.disableClickPropagation(box);
    }
    box.textContent = "";
    var names = Object.keys(failed).map(function (id) { return layerById(id).title; });
    box.appendChild(el("span", {}, U.fetch_failed + "：" + names.join("、")));
    var retry = el("button", { type: "button", class: "atl-btn", id: "atl-retry" }, U.retry);
    retry.addEventListener("click", function () {
      Object.keys(failed).forEach(function (id) { drawArea(id).catch(function () {}); });
    });
    box.appendChild(retry);
  }
  function clearFailure(lid) {
    delete failed[lid];
    var box = $("atl-fail");
    if (box && !Object.keys(failed).length) box.remove();
  }

  function drawArea(lid) {
    var lay = layerById(lid), tier = tierFor(lay);
    if (state.l.indexOf(lid) < 0 && !(lid === "provinces" && state.base === "none")) return Promise.resolve();
    return fetchGeometry(lid, tier).then(function (payload) {
      if (tierFor(lay) !== tier) return;  // the zoom moved on meanwhile
      var feats = [];
      payload.keys.forEach(function (k, i) {
        var p = props[lid][k];
        if (p && payload.geoms[i] && areaVisible(lid, p)) {
          feats.push({ type: "Feature", properties: p, geometry: payload.geoms[i] });
        }
      });
      var interactive = state.l.indexOf(lid) >= 0;
      var gj = L.geoJSON({ type: "FeatureCollection", features: feats }, {
        style: polygonStyle(lid), interactive: interactive,
        onEachFeature: function (f, layer) {
          if (!interactive) return;
          layer.bindPopup(f.properties.pop, popupOptions());
          layer.bindTooltip(f.properties.tip, { sticky: true });
          layer.on("popupopen", function () { select(lid, f.properties.id); });
          layer.on("popupclose", function () { unselect(lid, f.properties.id); });
        }
      });
      // a popup open on the old drawing (a city picked from search, a shared link) moves to
      // the same feature of the new drawing instead of closing with it
      var open = null;
      if (drawn[lid]) drawn[lid].eachLayer(function (l) {
        if (l.isPopupOpen && l.isPopupOpen()) open = { id: l.feature.properties.id, at: l.getPopup().getLatLng() };
      });
      var group = groups[lid];
      redrawing = true;
      group.clearLayers();
      redrawing = false;
      group.addLayer(gj);
      drawn[lid] = gj;
      if (open) gj.eachLayer(function (l) { if (l.feature.properties.id === open.id) l.openPopup(open.at); });
      gj.eachLayer(function (l) { var e = l.getElement && l.getElement(); if (e) e.classList.add("atl-f-" + lid); });
      orderLayers();
    }).catch(function () { /* showFailure() has told the user and offers a retry */ });
  }

  function restyle(lid) { if (drawn[lid]) drawn[lid].setStyle(polygonStyle(lid)); }

  // ------------------------------------------------------------------ layer visibility
  function applyVisibility() {
    D.layers.forEach(function (lay) {
      var on = state.l.indexOf(lay.id) >= 0 || (lay.id === "provinces" && state.base === "none");
      var g = groups[lay.id];
      if (on && !map.hasLayer(g)) map.addLayer(g);
      if (!on && map.hasLayer(g)) map.removeLayer(g);
      if (on && lay.geom !== "point") drawArea(lay.id);
    });
    syncLabels();
    orderLayers();
    renderLegend();
  }

  function syncLabels() {
    var show = labels && state.l.indexOf("cities") >= 0 && map.getZoom() >= 6;
    if (show && !map.hasLayer(labels)) map.addLayer(labels);
    if (!show && labels && map.hasLayer(labels)) map.removeLayer(labels);
  }

  // City names at their label point, below it (a point there may carry the city's features).
  function buildLabels() {
    labels = L.layerGroup();
    layerById("cities").features.forEach(function (p) {
      if (!p.lxy || !p.name) return;
      var span = el("span", {}, p.name);
      L.marker(p.lxy, { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "atl-city-label", html: span.outerHTML, iconSize: null, iconAnchor: [0, -12] })
      }).addTo(labels);
    });
  }

  // Bottom to top. The province outline lies under the cities, so a click inside Hubei reaches
  // a city (or a county, or a cluster when those are switched on), never the province.
  function orderLayers() {
    ["provinces", "cities", "counties", "clusters", "cluster_lines"].forEach(function (lid) {
      if (map.hasLayer(groups[lid]) && drawn[lid]) drawn[lid].bringToFront();
    });
  }

  // ------------------------------------------------------------------ selection, search
  function select(lid, id) { state.sel = lid + ":" + id; writeState(); }
  function unselect(lid, id) {
    if (redrawing) return;  // the popup is about to reopen on the redrawn feature
    if (state.sel === lid + ":" + id) { state.sel = ""; writeState(); }
  }

  function openFeature(lid, id, move) {
    var lay = layerById(lid), p = props[lid][id];
    if (!lay || !p) return;
    if (state.l.indexOf(lid) < 0) { state.l.push(lid); syncLayerBoxes(); applyVisibility(); }
    if (lay.geom === "point") {
      var m = markers[lid][id];
      if (!m) return;
      if (!pointVisible(lid, p)) { clearFilters(); }
      if (move) groups[lid].zoomToShowLayer(m, function () { m.openPopup(); });
      // a shared link keeps its view, unless the popup would not fit on a phone's screen
      else {
        var small = map.getSize().x < 700;
        var pop = L.popup(Object.assign(popupOptions(), { autoPan: small, keepInView: small }))
          .setLatLng(m.getLatLng()).setContent(p.pop).openOn(map);
        // the first pan can be lost to the opening view's own move: pan once the map is still
        if (small) setTimeout(function () { if (pop.isOpen()) pop._adjustPan(); }, 400);
      }
      return;
    }
    drawArea(lid).then(function () {
      var target = null;
      drawn[lid] && drawn[lid].eachLayer(function (l) { if (l.feature.properties.id === p.id) target = l; });
      if (!target) return;
      if (move) map.fitBounds(target.getBounds(), { maxZoom: 10 });
      target.openPopup(move ? target.getBounds().getCenter() : undefined);
    });
  }

  function normalise(s) { return String(s || "").toLowerCase().replace(/\s+/g, ""); }

  A.search = function (text, all) {  // the best 12 for the list; `all`: every match
    var q = normalise(text);
    if (!q) return [];
    var out = [];
    D.search.forEach(function (row) {
      var best = 0;
      row[4].forEach(function (t, i) {
        var score = 0;
        if (t === q) score = 100;
        else if (t.indexOf(q) === 0) score = 80;
        else if (t.indexOf(q) > 0) score = 60;  // a substring of a term: the API's q matches the same
        if (score && i === 0) score += 5;
        best = Math.max(best, score);
      });
      if (best) out.push({ layer: row[0], id: row[1], label: row[2], sub: row[3], score: best });
    });
    var order = { parks: 0, clusters: 1, projects: 2, cities: 3, counties: 4 };
    out.sort(function (a, b) { return b.score - a.score || order[a.layer] - order[b.layer] || a.label.length - b.label.length; });
    return all ? out : out.slice(0, 12);
  };

  // A combobox (WAI-ARIA): the arrow keys move through the results, Enter opens the active
  // one (or the first), Escape closes the list; the mouse works as before.
  function setupSearch() {
    var input = $("atl-q"), list = $("atl-results");
    if (!input) return;
    var results = [], active = -1;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-controls", "atl-results");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    list.setAttribute("role", "listbox");
    function show() {
      results = A.search(input.value);
      active = -1;
      list.textContent = "";
      list.hidden = !input.value;
      input.setAttribute("aria-expanded", String(!list.hidden));
      input.removeAttribute("aria-activedescendant");
      if (input.value && !results.length) list.appendChild(el("li", { class: "atl-muted" }, U.no_match));
      results.forEach(function (r, i) {
        var li = el("li", { id: "atl-r-" + i, role: "option", "aria-selected": "false",
                            "data-layer": r.layer, "data-id": String(r.id) });
        li.appendChild(el("span", { class: "atl-r-name" }, r.label));
        li.appendChild(el("span", { class: "atl-r-sub" }, r.sub));
        li.addEventListener("click", function () { go(i); });
        list.appendChild(li);
      });
    }
    function highlight(i) {
      var items = list.querySelectorAll("li[role=option]");
      if (!items.length) return;
      active = (i + items.length) % items.length;
      items.forEach(function (li, j) {
        li.classList.toggle("atl-active", j === active);
        li.setAttribute("aria-selected", String(j === active));
      });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }
    function go(i) {
      var r = results[i];
      if (!r) return;
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      openFeature(r.layer, r.id, true);
    }
    input.addEventListener("input", show);
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden && input.value) show();
        highlight(active + (e.key === "ArrowDown" ? 1 : -1) + (active < 0 && e.key === "ArrowUp" ? 1 : 0));
      } else if (e.key === "Enter") {
        e.preventDefault();
        if (!results.length) show();
        go(active >= 0 ? active : 0);
      } else if (e.key === "Escape") {
        list.hidden = true;
        input.setAttribute("aria-expanded", "false");
      }
    });
  }

  // ------------------------------------------------------------------ the panel
  function syncLayerBoxes() {
    document.querySelectorAll("#atl-layers input[type=checkbox]").forEach(function (b) {
      b.checked = state.l.indexOf(b.value) >= 0;
    });
  }

  function setupLayers() {
    var box = $("atl-layers");
    if (!box) return;
    D.groups.forEach(function (g) {
      var fs = el("fieldset", { class: "atl-group", "data-group": g.id });
      fs.appendChild(el("legend", {}, g.title));
      g.layers.forEach(function (lid) {
        var lay = layerById(lid);
        var lab = el("label", {});
        var cb = el("input", { type: "checkbox", value: lid, name: "layer" });
        cb.checked = state.l.indexOf(lid) >= 0;
        cb.addEventListener("change", function () {
          state.l = D.layers.map(function (l) { return l.id; }).filter(function (id) {
            var b = document.querySelector('#atl-layers input[value="' + id + '"]');
            return b && b.checked;
          });
          applyVisibility();
          writeState();
        });
        lab.appendChild(cb);
        lab.appendChild(document.createTextNode(" " + lay.title + " "));
        lab.appendChild(el("span", { class: "atl-count" }, lay.count));
        fs.appendChild(lab);
      });
      box.appendChild(fs);
    });
  }

  function selectBox(id, label, options, value, onChange) {
    var lab = el("label", { class: "atl-sel" });
    lab.appendChild(el("span", {}, label));
    var s = el("select", { id: id });
    options.forEach(function (o) {
      var opt = el("option", { value: o[0] }, o[1]);
      if (o[2]) opt.disabled = true;
      s.appendChild(opt);
    });
    s.value = value;
    s.addEventListener("change", function () { onChange(s.value); });
    lab.appendChild(s);
    return lab;
  }

  function filtersChanged() {
    ["parks", "projects"].forEach(refreshPoints);
    drawArea("clusters");
    drawArea("cluster_lines");
    restyle("cities");
    renderLegend();
    writeState();
  }

  function clearFilters() {
    state.sector = state.city = state.kind = state.level = state.named = "";
    ["sector", "city", "kind", "level", "named"].forEach(function (k) { var s = $("atl-f-" + k); if (s) s.value = ""; });
    filtersChanged();
  }

  function setupFilters() {
    var box = $("atl-filters");
    if (!box) return;
    var all = ["", U.all];
    var used = D.sectors.filter(function (s) { return s.used; });
    box.appendChild(selectBox("atl-f-sector", U.industry, [all].concat(used.map(function (s) { return [s.code, s.name]; })),
      state.sector, function (v) { state.sector = v; filtersChanged(); }));
    box.appendChild(selectBox("atl-f-city", U.city, [all].concat(D.cities.map(function (c) { return [String(c.id), c.name]; })),
      state.city, function (v) {
        state.city = v;
        filtersChanged();
        if (v) fitCity(Number(v));
      }));
    box.appendChild(selectBox("atl-f-kind", U.kind, [all].concat(D.kinds.map(function (k) { return [k.id, k.name]; })),
      state.kind, function (v) { state.kind = v; filtersChanged(); }));
    box.appendChild(selectBox("atl-f-level", U.level, [all].concat(D.levels.map(function (k) { return [k.id, k.name]; })),
      state.level, function (v) { state.level = v; filtersChanged(); }));
    box.appendChild(selectBox("atl-f-named", U.named, [all, ["doc", U.named_doc], ["cat", U.named_cat]],
      state.named, function (v) { state.named = v; filtersChanged(); }));
    var reset = el("button", { type: "button", class: "atl-btn" }, U.reset);
    reset.addEventListener("click", clearFilters);
    box.appendChild(reset);
  }

  function fitCity(adcode) {
    var pts = [];
    ["parks", "projects"].forEach(function (lid) {
      layerById(lid).features.forEach(function (p) { if (p.city === adcode && p.xy) pts.push(p.xy); });
    });
    var done = false;
    if (drawn.cities) drawn.cities.eachLayer(function (l) {
      if (!done && l.feature.properties.id === adcode) { map.fitBounds(l.getBounds()); done = true; }
    });
    if (!done && pts.length) map.fitBounds(L.latLngBounds(pts).pad(0.3), { maxZoom: 10 });
  }

  function setupMeasure() {
    var box = $("atl-measure");
    var opts = [["none", U.m_none], ["n_parks", U.m_n_parks], ["n_projects", U.m_n_projects]];
    D.sectors.filter(function (s) { return s.used; }).forEach(function (s) { opts.push(["sector:" + s.code, U.m_sector + s.name]); });
    if (box) box.appendChild(selectBox("atl-f-measure", U.shading, opts, state.measure, function (v) {
      state.measure = v;
      setBreaks();
      if (state.l.indexOf("cities") < 0 && v !== "none") { state.l.push("cities"); syncLayerBoxes(); applyVisibility(); }
      restyle("cities");
      renderLegend();
      writeState();
    }));
  }

  function setBreaks() {
    var key = state.measure === "n_projects" ? "nj" : "np";
    A._breaks = breaks(layerById("cities").features.map(function (p) { return p[key]; }));
  }

  function setupBases() {
    var box = $("atl-bases");
    if (!box) return;
    D.bases.forEach(function (b) {
      var lab = el("label", {});
      var r = el("input", { type: "radio", name: "base", value: b.id });
      r.checked = b.id === state.base;
      r.disabled = !b.available;
      r.addEventListener("change", function () {
        window.location.search = "?" + query({ base: b.id });  // the overlays' datum may change
      });
      lab.appendChild(r);
      lab.appendChild(document.createTextNode(" " + b.title + (b.available ? "" : U.no_key)));
      box.appendChild(lab);
    });
    if (D.datum === "gcj02") box.appendChild(el("p", { class: "atl-note-s" }, U.gcj_note));
  }

  // ------------------------------------------------------------------ share panel
  function embedPath() {
    if (D.view === "layer") return D.urls.embed + "/map/" + encodeURIComponent(D.layer);
    if (D.view === "cluster") return D.urls.embed + "/cluster/" + encodeURIComponent(D.cluster_id);
    return D.urls.embed;
  }
  function fullPath() {
    if (D.view === "layer") return D.urls.atlas + "map/" + encodeURIComponent(D.layer);
    if (D.view === "cluster") return D.urls.atlas + "cluster/" + encodeURIComponent(D.cluster_id);
    return D.urls.atlas;
  }
  A.shareLinks = function () {
    var opts = {};
    ["legend", "filters"].forEach(function (k) { var cb = $("atl-embed-opt-" + k); if (cb && cb.checked) opts[k] = "1"; });
    var origin = window.location.origin, q = "?" + query(), eq = "?" + query(opts);
    var embed = origin + embedPath() + eq;
    var title = document.title.replace(/"/g, "");
    return {
      link: origin + fullPath() + q,
      embed: embed,
      iframe: '<iframe src="' + embed.replace(/&/g, "&amp;").replace(/"/g, "&quot;") + '" width="800" height="600" ' +
        'style="border:0" loading="lazy" title="' + title.replace(/&/g, "&amp;").replace(/</g, "&lt;") + '"></iframe>'
    };
  };

  // Exports of what is on screen: the print map takes the view's own parameters (not the
  // base map or the selection); the deck takes the cluster, else the city filter, else all.
  var EXPORT_KEYS = ["lang", "l", "sector", "city", "kind", "level", "named", "measure", "c", "z"];
  A.exportLinks = function () {
    var q = new URLSearchParams(query()), e = new URLSearchParams();
    EXPORT_KEYS.forEach(function (k) { if (q.has(k)) e.set(k, q.get(k)); });
    if (e.has("z")) e.set("z", String(Math.max(4, Math.min(14, Number(e.get("z"))))));
    if (D.view === "layer") e.set("l", D.layer);
    if (D.view === "cluster") { e.set("cluster", D.cluster_id); e.delete("c"); e.delete("z"); }
    var deck = new URLSearchParams();
    if (state.lang === "en") deck.set("lang", "en");
    if (D.view === "cluster") deck.set("cluster", D.cluster_id);
    else if (state.city) deck.set("city", state.city);
    var s = e.toString() ? "?" + e.toString() : "", d = deck.toString() ? "?" + deck.toString() : "";
    return { png: D.urls.export + "map.png" + s, pdf: D.urls.export + "map.pdf" + s,
             pptx: D.urls.export + "briefing.pptx" + d, html: D.urls.export + "map.html" + s };
  };

  // "Download what I see": each visible layer, under the active filters, in every format.
  var DATA_FORMATS = [["geojson", "GeoJSON"], ["csv", "CSV"], ["csvzh", "CSV（中文表头）"], ["gpkg", "GeoPackage"],
                      ["kml", "KML"]];
  A.dataLinks = function () {
    var out = [];
    state.l.forEach(function (lid) {
      var q = new URLSearchParams(), lay = layerById(lid);
      if (!lay) return;
      if (D.cluster && (lid === "parks" || lid === "projects")) {
        var ids = lid === "parks" ? D.cluster.parks : D.cluster.projects;
        if (!ids.length) return;
        q.set("id", ids.join(","));
      } else if (D.cluster && (lid === "clusters" || lid === "cluster_lines")) {
        q.set("id", D.cluster.id);
      } else if (lid === "parks" || lid === "projects") {
        if (state.sector) q.set("sector", state.sector);
        if (state.city) q.set("city_adcode", state.city);
        if (lid === "parks") {
          if (state.kind) q.set("kind", state.kind);
          if (state.level) q.set("level", state.level);
          if (state.named) q.set("named_in_documents", state.named === "doc" ? "true" : "false");
        }
      } else if ((lid === "clusters" || lid === "cluster_lines") && state.sector) {
        q.set("sector", state.sector);
      }
      var links = DATA_FORMATS.map(function (f) {
        var fq = new URLSearchParams(q);
        if (f[0] === "csvzh") fq.set("headers", "zh");
        var ext = f[0] === "csvzh" ? "csv" : f[0], s = fq.toString();
        return { label: f[1], href: D.urls.download + lid + "." + ext + (s ? "?" + s : "") };
      });
      out.push({ layer: lid, title: lay.title, links: links });
    });
    return out;
  };

  function renderDataLinks() {
    var box = $("atl-data-links");
    if (!box) return;
    box.textContent = "";
    A.dataLinks().forEach(function (d) {
      var row = el("div", { class: "atl-data-row", "data-layer": d.layer });
      row.appendChild(el("span", {}, d.title + "："));
      d.links.forEach(function (l, i) {
        if (i) row.appendChild(document.createTextNode(" · "));
        row.appendChild(el("a", { href: l.href, download: "" }, l.label));
      });
      box.appendChild(row);
    });
  }

  function copyButton(target) {
    var b = el("button", { type: "button", class: "atl-btn" }, U.copy);
    b.addEventListener("click", function () {
      target.select();
      var done = function () { b.textContent = U.copied; setTimeout(function () { b.textContent = U.copy; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(target.value).then(done, done);
      else { try { document.execCommand("copy"); } catch (e) { /* selected for manual copy */ } done(); }
    });
    return b;
  }

  function setupShare(box) {
    if (!box) return;
    box.appendChild(el("label", { for: "atl-share-link" }, U.link));
    var link = el("input", { id: "atl-share-link", type: "text", readonly: "readonly" });
    box.appendChild(link);
    box.appendChild(copyButton(link));
    box.appendChild(el("label", { for: "atl-share-iframe" }, U.iframe));
    var code = el("textarea", { id: "atl-share-iframe", rows: "4", readonly: "readonly" });
    box.appendChild(code);
    box.appendChild(copyButton(code));
    [["legend", U.embed_legend], ["filters", U.embed_filters]].forEach(function (o) {
      var lab = el("label", { class: "atl-check" });
      var cb = el("input", { type: "checkbox", id: "atl-embed-opt-" + o[0] });
      cb.addEventListener("change", updateShare);
      lab.appendChild(cb);
      lab.appendChild(document.createTextNode(" " + o[1]));
      box.appendChild(lab);
    });
    box.appendChild(el("p", { class: "atl-muted", id: "atl-embed-note" },
      D.frame_any ? U.embed_any : U.embed_some + " " + D.frame_ancestors));
    box.appendChild(el("label", {}, U.export));
    var row = el("div", { class: "atl-exports" });
    [["png", U.dl_png], ["pdf", U.dl_pdf], ["pptx", U.dl_pptx], ["html", U.dl_html]].forEach(function (f) {
      row.appendChild(el("a", { id: "atl-export-" + f[0], class: "atl-btn", href: "#", download: "" }, f[1]));
    });
    box.appendChild(row);
    box.appendChild(el("label", {}, U.data_links));
    box.appendChild(el("div", { id: "atl-data-links" }));
  }

  function updateShare() {
    var links = A.shareLinks();
    var link = $("atl-share-link"), code = $("atl-share-iframe"), full = $("atl-open-full");
    if (link) link.value = links.link;
    if (code) code.value = links.iframe;
    if (full) full.href = links.link;
    var ex = A.exportLinks();
    Object.keys(ex).forEach(function (k) { var a = $("atl-export-" + k); if (a) a.href = ex[k]; });
    renderDataLinks();
  }

  // The active filters in words: 行业：汽车 · 城市：武汉市 (for an embed that asks to show them).
  function filterSummary() {
    var parts = [];
    function nameOf(list, id) { var x = list.filter(function (o) { return String(o.id || o.code) === String(id); })[0]; return x ? x.name : id; }
    if (state.sector) parts.push(U.industry + "：" + nameOf(D.sectors, state.sector));
    if (state.city) parts.push(U.city + "：" + nameOf(D.cities, state.city));
    if (state.kind) parts.push(U.kind + "：" + nameOf(D.kinds, state.kind));
    if (state.level) parts.push(U.level + "：" + nameOf(D.levels, state.level));
    if (state.named) parts.push(U.named + "：" + (state.named === "doc" ? U.named_doc : U.named_cat));
    return parts.length ? U.filters + " · " + parts.join(" · ") : U.no_filters;
  }

  function embedControls() {
    var Share = L.Control.extend({
      options: { position: "topright" },
      onAdd: function () {
        var div = el("div", { class: "leaflet-bar atl-embed-bar" });
        var title = el("a", { id: "atl-open-full", href: "#", target: "_blank", rel: "noopener" },
          (D.cluster ? D.cluster.name + " · " : "") + U.title + " ↗");
        title.title = U.open_full;
        div.appendChild(title);
        if (state.filters) div.appendChild(el("div", { id: "atl-embed-filters", class: "atl-muted" }, filterSummary()));
        var details = el("details", { id: "atl-share-box" });
        details.appendChild(el("summary", {}, U.share));
        var inner = el("div", { id: "atl-share" });
        details.appendChild(inner);
        div.appendChild(details);
        setupShare(inner);
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      }
    });
    map.addControl(new Share());
  }

  // ------------------------------------------------------------------ legend
  function swatch(svg) { var s = el("span", { class: "atl-sw" }); s.innerHTML = svg; return s; }

  function renderLegend() {
    var box = $("atl-legend-body");
    if (!box) return;
    box.textContent = "";
    function row(sym, text) {
      var r = el("div", { class: "atl-lrow" });
      r.appendChild(sym);
      r.appendChild(el("span", {}, text));
      box.appendChild(r);
    }
    var grey = { color: "#888888", approx: false };
    row(swatch(symbol("parks", Object.assign({ level: "national" }, grey)).options.html), U.sym_national);
    row(swatch(symbol("parks", Object.assign({ level: "provincial" }, grey)).options.html), U.sym_provincial);
    row(swatch(symbol("parks", Object.assign({ level: "" }, grey)).options.html), U.sym_other);
    row(swatch(symbol("parks", Object.assign({ level: "provincial", doc: false }, grey)).options.html), U.sym_catalogue);
    row(swatch(symbol("projects", grey).options.html), U.sym_project);
    row(swatch(symbol("parks", { level: "", color: "#444444", approx: false }).options.html), U.solid);
    row(swatch(symbol("parks", { level: "", color: "#444444", approx: true }).options.html), U.hollow);
    // each corridor line drawn, in its own colour; the cluster areas when they are switched on
    [["cluster_lines", U.corridor, 4], ["clusters", U.cluster_area, 0]].forEach(function (spec) {
      var lid = spec[0];
      if (state.l.indexOf(lid) < 0) return;
      var shown = layerById(lid).features.filter(function (p) { return areaVisible(lid, p); });
      if (!shown.length) return;
      box.appendChild(el("div", { class: "atl-lh" }, spec[1]));
      shown.forEach(function (p) {
        var c = colour(p.color);
        var svg = spec[2] ? '<svg width="22" height="10"><line x1="1" y1="5" x2="21" y2="5" stroke="' + c + '" stroke-width="4"/></svg>'
          : '<svg width="18" height="12"><rect x="1" y="1" width="16" height="10" fill="' + c + '" fill-opacity=".2" stroke="' + c +
            '" stroke-dasharray="3 2"/></svg>';
        var r = el("div", { class: "atl-lrow" });
        r.appendChild(swatch(svg));
        r.appendChild(el("span", {}, p.name || ""));
        box.appendChild(r);
      });
    });
    if (state.base === "none") row(swatch('<svg width="22" height="10"><line x1="1" y1="5" x2="21" y2="5" stroke="#6baed6" stroke-width="2"/></svg>'), U.rivers);
    if (state.measure !== "none") {
      box.appendChild(el("div", { class: "atl-lh" }, U.shading + " · " + measureTitle()));
      if (state.measure.indexOf("sector:") === 0) {
        row(swatch('<svg width="18" height="12"><rect width="18" height="12" fill="#d95f0e" fill-opacity=".55" stroke="#555"/></svg>'), "✓");
      } else {
        var b = A._breaks;
        b.forEach(function (lo, i) {
          if (lo === 0) return;
          var hi = i + 1 < b.length ? b[i + 1] - 1 : null;
          row(swatch('<svg width="18" height="12"><rect width="18" height="12" fill="' + SHADES[Math.min(i, 5)] + '" stroke="#555"/></svg>'),
            hi === null ? "≥ " + lo : (hi === lo ? String(lo) : lo + "–" + hi));
        });
      }
    }
    box.appendChild(el("div", { class: "atl-lh" }, U.sectors_legend));
    var used = {};
    ["parks", "projects"].forEach(function (lid) {
      layerById(lid).features.forEach(function (p) { if (p.sec[0]) used[p.sec[0]] = true; });
    });
    D.sectors.filter(function (s) { return used[s.code]; }).forEach(function (s) {
      row(swatch('<svg width="12" height="12"><circle cx="6" cy="6" r="5" fill="' + colour(s.color) + '"/></svg>'), s.name);
    });
  }

  function measureTitle() {
    if (state.measure === "n_parks") return U.m_n_parks;
    if (state.measure === "n_projects") return U.m_n_projects;
    var code = state.measure.slice(7);
    var s = D.sectors.filter(function (x) { return x.code === code; })[0];
    return U.m_sector + (s ? s.name : code);
  }

  function setupLegend() {
    if ($("atl-legend-body")) { renderLegend(); return; }  // the full page has it in the panel
    var Legend = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        var d = el("details", { class: "atl-legend leaflet-bar", id: "atl-legend" });
        if (window.innerWidth > 900 || state.legend) d.open = true;
        d.appendChild(el("summary", {}, U.legend));
        d.appendChild(el("div", { id: "atl-legend-body" }));
        L.DomEvent.disableClickPropagation(d);
        L.DomEvent.disableScrollPropagation(d);
        return d;
      }
    });
    map.addControl(new Legend());
    renderLegend();
  }

  // ------------------------------------------------------------------ cluster view
  function setupCluster() {
    var c = D.cluster;
    if (!c) return;
    var pts = c.members.filter(function (m) { return m.xy; }).map(function (m) { return m.xy; });
    var badges = L.layerGroup().addTo(map);
    c.members.forEach(function (m) {
      if (!m.xy) return;
      var d = el("div", { class: "atl-badge" });
      d.appendChild(el("b", {}, c.ordered ? m.n : "•"));
      d.appendChild(el("span", {}, m.name));
      L.marker(m.xy, { icon: L.divIcon({ className: "atl-badge-wrap", html: d.outerHTML, iconSize: null }),
        interactive: false, keyboard: false, zIndexOffset: 1000 }).addTo(badges);
    });
    if (!state.c && pts.length) map.fitBounds(L.latLngBounds(pts).pad(0.25), { maxZoom: 9 });
    var box = $("atl-cluster");
    if (!box) return;
    box.hidden = false;
    box.appendChild(el("h2", {}, c.name));
    if (c.name2 && c.name2 !== c.name) box.appendChild(el("div", { class: "atl-en" }, c.name2));
    box.appendChild(el("div", { class: "atl-muted" }, c.kind + (c.sectors.length ? " · " + c.sectors.join(" · ") : "")));
    box.appendChild(el("h3", {}, U.members));
    var ol = el(c.ordered ? "ol" : "ul", { class: "atl-members" });
    c.members.forEach(function (m) {
      var li = el("li", { "data-adcode": String(m.adcode) });
      li.appendChild(el("b", {}, m.name));
      if (m.role) {
        li.appendChild(el("div", {}, m.role));
        if (m.quote) {
          var q = el("q", { class: "atl-muted" }, m.quote);
          if (m.cite_url && /^\//.test(m.cite_url)) {  // a link into the document reader only
            var a = el("a", { href: m.cite_url, target: "_blank", rel: "noopener" });
            a.appendChild(q);
            q = a;
          }
          li.appendChild(q);
        }
      } else li.appendChild(el("div", { class: "atl-muted" }, U.no_role));
      ol.appendChild(li);
    });
    box.appendChild(ol);
    [["parks", U.along_parks], ["projects", U.along_projects]].forEach(function (pair) {
      var ids = c[pair[0]];
      box.appendChild(el("h3", {}, pair[1] + " (" + ids.length + ")"));
      var ul = el("ul", { class: "atl-along" });
      if (!ids.length) ul.appendChild(el("li", { class: "atl-muted" }, U.none_listed));
      ids.forEach(function (id) {
        var row = D.search.filter(function (r) { return r[0] === pair[0] && r[1] === id; })[0];
        var a = el("a", { href: "#", "data-id": id }, row ? row[2] : id);
        a.addEventListener("click", function (e) { e.preventDefault(); openFeature(pair[0], id, true); });
        var li = el("li");
        li.appendChild(a);
        ul.appendChild(li);
      });
      box.appendChild(ul);
    });
  }

  // ------------------------------------------------------------------ base maps
  function setupBase() {
    var b = D.bases.filter(function (x) { return x.id === state.base; })[0];
    map.createPane("hydro").style.zIndex = 250;
    if (b && b.url) {
      var opts = { attribution: b.attribution, maxZoom: 18 };
      if (b.subdomains) opts.subdomains = b.subdomains;
      L.tileLayer(b.url, opts).addTo(map);
      if (b.overlay) L.tileLayer(b.overlay, opts).addTo(map);
      return;
    }
    map.attributionControl.addAttribution(b ? b.attribution : "");
    [["lakes", { color: "#6baed6", weight: 0.6, fillColor: "#c6dbef", fillOpacity: 0.9 }],
     ["rivers", { color: "#6baed6", weight: 1.4, opacity: 0.9 }]].forEach(function (pair) {
      pending++;
      fetch(D.urls[pair[0]], { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (gj) {
          if (gj) L.geoJSON(gj, { pane: "hydro", interactive: false, style: pair[1] }).addTo(map);
        }).catch(function () { /* the base is decoration: the map works without it */ })
        .finally(function () { pending--; checkReady(); });
    });
  }

  function checkReady() {
    if (pending === 0 && A._initialised && !A.ready) {
      A.ready = true;
      document.body.setAttribute("data-ready", "1");
      if (A._restore) { var r = A._restore; A._restore = null; openFeature(r[0], r[1], false); }
    }
  }

  // ------------------------------------------------------------------ counts for tests
  A.drawnCounts = function () {
    var out = {};
    D.layers.forEach(function (lay) {
      if (!map.hasLayer(groups[lay.id])) { out[lay.id] = 0; return; }
      if (lay.geom === "point") out[lay.id] = groups[lay.id].getLayers().length;
      else out[lay.id] = drawn[lay.id] ? drawn[lay.id].getLayers().length : 0;
    });
    return out;
  };
  A.map = function () { return map; };
  A.clusterAlong = function () { return D.cluster ? { parks: D.cluster.parks, projects: D.cluster.projects } : null; };
  A.layerFeatures = function (lid) { return layerById(lid).features; };
  A.state = function () { return state; };

  // ------------------------------------------------------------------ start
  A.init = function (m, data) {
    map = m;
    D = data;
    U = D.ui;
    state = readState();
    // markercluster needs a max zoom (without tiles Leaflet has none). Without a tile base map
    // nothing gets sharper past 12, and co-located points spiderfy there instead of at 17.
    map.setMaxZoom(D.base === "none" ? 12 : 17);
    map.setMinZoom(4);
    D.layers.forEach(function (lay) {
      props[lay.id] = {};
      lay.features.forEach(function (p) { props[lay.id][p.id] = p; });
    });
    if (state.c) map.setView(state.c, state.z || D.home.zoom);
    else if (state.z) map.setZoom(state.z);
    else if (map.getSize().x < 700) map.fitBounds(D.home.bounds);  // a phone: all of Hubei, Wuhan too
    setBreaks();
    setupBase();
    map.attributionControl.setPrefix("Leaflet");  // the default prefix carries a national flag
    buildLabels();
    D.layers.forEach(function (lay) {
      if (lay.geom === "point") buildPoints(lay);
      else groups[lay.id] = L.featureGroup();
    });
    if (D.embed) embedControls();
    setupSearch();
    setupLayers();
    setupFilters();
    setupMeasure();
    setupBases();
    if (!D.embed) setupShare($("atl-share"));  // an embed built its own in embedControls()
    setupLegend();
    setupCluster();
    applyVisibility();
    var lastTier = null;
    map.on("zoomend", function () {
      var tier = map.getZoom() >= D.tierMinZoom.mid ? "mid" : "lo";
      if (tier !== lastTier) { lastTier = tier; applyVisibility(); } else syncLabels();
    });
    lastTier = map.getZoom() >= D.tierMinZoom.mid ? "mid" : "lo";
    map.on("moveend", writeState);
    if (state.sel && state.sel.indexOf(":") > 0) {
      var parts = state.sel.split(":");
      var lid = parts[0], raw = parts.slice(1).join(":");
      var key = props[lid] && (props[lid][raw] ? raw : (props[lid][Number(raw)] ? Number(raw) : null));
      if (key !== null && key !== undefined) A._restore = [lid, key];
    }
    writeState();
    setupPrint();
    A._initialised = true;
    checkReady();
  };

  // The browser's print: the stylesheet leaves the map, the legend, a title and the source
  // line; the map is resized to the page and keeps showing what was on screen.
  function setupPrint() {
    var screen = map.getBounds(), printing = false;
    map.on("moveend", function () { if (!printing) screen = map.getBounds(); });
    function refit(toPrint) {
      printing = toPrint;
      var legend = $("atl-legend");
      if (toPrint && legend) legend.open = true;
      map.invalidateSize({ animate: false });
      map.fitBounds(screen, { animate: false });
    }
    // the media query changes once the print layout applies; beforeprint may come earlier
    var mq = window.matchMedia("print");
    if (mq.addEventListener) mq.addEventListener("change", function (e) { refit(e.matches); });
    window.addEventListener("beforeprint", function () { refit(true); });
    window.addEventListener("afterprint", function () { refit(false); });
  }
})();
