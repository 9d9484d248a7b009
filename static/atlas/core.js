/* Hubei Cluster Atlas · the interactive map, part "core": the namespace and shared state (S), small DOM helpers, the view in the URL, styles and filters.
 *
 * The map script is split along its seams into static/atlas/*.js, loaded in order by the
 * page (server/mapview.py); core.js makes the namespace AtlasMap and the state every part
 * shares (AtlasMap._, called S). Every part reads and writes the view through S and reaches
 * the other parts' functions as S.name. Popup and tooltip HTML arrive escaped by the server;
 * every other text is written with textContent.
 */
(function () {
  "use strict";

  var A = (window.AtlasMap = { ready: false });
  // The state every part shares. D: the view's data (#atlas-data), U: the interface words,
  // map: the Leaflet map, state: the view in the URL.
  var S = (A._ = {
    D: null, U: null, map: null, state: null,
    groups: {},   // layer id -> Leaflet group drawn on the map
    props: {},    // layer id -> {feature id -> properties}
    markers: {},  // point layer id -> {feature id -> marker}
    geoms: {},    // "layer/tier" -> payload from /map/geometry
    drawn: {},    // polygon layer id -> L.geoJSON currently drawn
    pending: 0,   // geometry fetches in flight
    redrawing: false,  // a polygon layer is being replaced: its popups reopen on the new one
    labels: null,      // city name labels (a layer group), shown with the cities
    QUERY_KEYS: null,  // the URL's parameters: the map's part of the server's table (queryKeys)
    HEX: /^#[0-9a-fA-F]{6}$/
  });

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
  function layerById(id) { return S.D.layers.filter(function (l) { return l.id === id; })[0]; }
  // a colour from the server, or the style's grey for a feature of no industry
  function colour(c) { return S.HEX.test(c || "") ? c : S.D.style.no_sector; }

  // ------------------------------------------------------------------ the view in the URL
  // The parameters, their defaults and ranges come from the server's one table
  // (server/view/params.py, as S.D.params), which has already refused any value it does not
  // allow (a 400): what reaches the page is valid. `layer` and `cluster` name the page itself.
  function param(name) { return S.D.params.filter(function (p) { return p.name === name; })[0]; }
  function queryKeys() {
    return S.D.params.filter(function (p) {
      return p.surfaces.indexOf("map") >= 0 && p.name !== "layer" && p.name !== "cluster";
    }).map(function (p) { return p.name; });
  }
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }

  function readState() {
    var q = new URLSearchParams(window.location.search);
    S.QUERY_KEYS = queryKeys();
    var s = {};
    S.QUERY_KEYS.forEach(function (k) {
      var d = param(k).default;
      s[k] = q.get(k) || (d === null ? "" : d);
    });
    s.lang = S.D.lang;
    s.base = S.D.base;  // as the server settled it (Tianditu without a key: none)
    s.l = q.get("l") ? q.get("l").split(",") : S.D.visible.slice();  // the page's own layers by default
    s.c = null;
    s.z = null;
    var c = (q.get("c") || "").split(",").map(Number), z = Number(q.get("z"));
    if (c.length === 2 && isFinite(c[0]) && isFinite(c[1]) && q.get("z") && isFinite(z)) { s.c = c; s.z = z; }
    return s;
  }

  // The screen's centre and zoom, kept inside the table's ranges so the URL stays one the
  // server takes (a centre panned off China is pulled back to its edge).
  function screenExtent() {
    var c = S.map.getCenter(), box = param("c").range, zr = param("z").range;
    return { c: clamp(c.lat, box[1], box[3]).toFixed(4) + "," + clamp(c.lng, box[0], box[2]).toFixed(4),
             z: clamp(S.map.getZoom(), zr[0], zr[1]) };
  }

  function query(extra) {
    var s = Object.assign({}, S.state, screenExtent(), extra || {});
    var q = new URLSearchParams();
    S.QUERY_KEYS.forEach(function (k) {
      var v = k === "l" ? s.l.join(",") : s[k];
      var named = S.paperChosen && (k === "paper" || k === "orient");  // a paper chosen for print stays named
      if (k !== "l" && !named && v === param(k).default) return;  // lang=zh, base=none, measure=none
      if (v !== "" && v !== null && v !== undefined) q.set(k, v);
    });
    return q.toString();
  }

  function writeState() {
    var qs = query();
    window.history.replaceState(null, "", window.location.pathname + "?" + qs);
    var lang = $("atl-lang");
    if (lang) lang.href = "?" + query({ lang: S.state.lang === "zh" ? "en" : "zh" });
    S.updateShare();
  }

  // ------------------------------------------------------------------ styles and filters
  function pointVisible(lid, p) {
    if (S.D.cluster) {
      var along = lid === "parks" ? S.D.cluster.parks : S.D.cluster.projects;
      if (along.indexOf(p.id) < 0) return false;
    }
    if (S.state.sector && p.sec.indexOf(S.state.sector) < 0) return false;
    if (S.state.city && String(p.city) !== S.state.city) return false;
    if (lid === "parks") {
      if (S.state.kind && p.kind !== S.state.kind) return false;
      if (S.state.level && p.level !== S.state.level) return false;
      if (S.state.named && (S.state.named === "doc") !== p.doc) return false;  // doc | cat
    }
    return true;
  }

  function areaVisible(lid, p) {
    if (lid !== "clusters" && lid !== "cluster_lines") return true;
    if (S.D.cluster) return p.id === S.D.cluster.id;  // the focused cluster alone
    if (S.state.sector && p.sec.indexOf(S.state.sector) < 0) return false;
    if (S.state.city && p.cities.indexOf(Number(S.state.city)) < 0) return false;
    return true;
  }

  // The shading classes and fills come from the server (layers/style.py, S.D.style), made by the
  // rule print uses, so a city has the same class, colour and legend label on screen and on paper.
  function shadeClass(v) {
    var hit = null;
    (S.D.style.classes[S.state.measure] || []).forEach(function (c) { if (v >= c.lo && (c.hi === null || v <= c.hi)) hit = c; });
    return hit;
  }

  function shadeFor(p) {
    var m = S.state.measure, st = S.D.style;
    var empty = { fillColor: st.empty.colour, fillOpacity: st.empty.opacity };
    if (m === "n_parks" || m === "n_projects") {
      var c = shadeClass(m === "n_parks" ? p.np : p.nj);
      return c ? { fillColor: c.colour, fillOpacity: st.shade_opacity } : empty;
    }
    if (m.indexOf("sector:") === 0) {
      var has = (p.sx || []).indexOf(m.slice(7)) >= 0;
      return has ? { fillColor: st.sector.colour, fillOpacity: st.sector.opacity } : empty;
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
        if (S.state.city && String(p.id) === S.state.city) Object.assign(s, { color: S.D.style.city_focus, weight: 3 });
        if (S.D.cluster) {
          var member = S.D.cluster.members.some(function (m) { return m.adcode === p.id; });
          Object.assign(s, member ? { color: S.D.style.member, weight: 2.5, fillColor: S.D.style.member_fill, fillOpacity: 0.55 }
            : { fillColor: S.D.style.outside.colour, fillOpacity: S.D.style.outside.opacity, color: S.D.style.outside.line });
        }
      } else if (lid === "counties" && S.D.cluster) {
        var inIt = S.D.cluster.members.some(function (m) { return m.adcode === p.id; });
        if (inIt) Object.assign(s, { color: S.D.style.member, weight: 2, fillColor: S.D.style.member_fill, fillOpacity: 0.5 });
      } else if (lid === "clusters" || lid === "cluster_lines") {
        var c = colour(p.color);
        Object.assign(s, { color: c, fillColor: c });
        if (S.D.cluster) Object.assign(s, lid === "cluster_lines" ? { weight: 6, opacity: 0.9 }
          : { weight: 3, opacity: 1, fillOpacity: 0.08, dashArray: "8 5" });
      }
      return s;
    };
  }

  // Popups fit the map: on a phone they are narrower than the screen, so the close button stays
  // on it (the content box is the width plus 44 px of margins), and autopan keeps them clear of the edges.
  function popupOptions() {
    var size = S.map.getSize();
    return { maxWidth: Math.max(160, Math.min(380, size.x - 120)), minWidth: Math.min(220, size.x - 120),
             maxHeight: Math.max(160, Math.min(440, size.y - 90)), autoPanPadding: [12, 12] };
  }

  // what the other parts call
  S.el = el;
  S.$ = $;
  S.layerById = layerById;
  S.colour = colour;
  S.param = param;
  S.readState = readState;
  S.screenExtent = screenExtent;
  S.query = query;
  S.writeState = writeState;
  S.pointVisible = pointVisible;
  S.areaVisible = areaVisible;
  S.shadeClass = shadeClass;
  S.polygonStyle = polygonStyle;
  S.popupOptions = popupOptions;
})();
