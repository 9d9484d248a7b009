/* Hubei Cluster Atlas · the interactive map, part "legend": the legend, the cluster view (members, badges), base maps.
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

  // ------------------------------------------------------------------ legend
  function swatch(svg) { var s = S.el("span", { class: "atl-sw" }); s.innerHTML = svg; return s; }

  function renderLegend() {
    var box = S.$("atl-legend-body");
    if (!box) return;
    box.textContent = "";
    function row(sym, text) {
      var r = S.el("div", { class: "atl-lrow" });
      r.appendChild(sym);
      r.appendChild(S.el("span", {}, text));
      box.appendChild(r);
    }
    var key = S.D.style.legend, grey = { color: key.symbol, approx: false };  // layers/style.py
    // A compact key (an embed in a small frame) keeps what gives a colour or a caveat its
    // meaning, the colours first: shading, the industries drawn, lines, hollow symbols; the
    // shapes and the rivers wait for "full legend".
    var compact = S.legendCompact;

    function symbols() {
      row(swatch(S.symbol("parks", Object.assign({ level: "national" }, grey)).options.html), S.U.sym_national);
      row(swatch(S.symbol("parks", Object.assign({ level: "provincial" }, grey)).options.html), S.U.sym_provincial);
      row(swatch(S.symbol("parks", Object.assign({ level: "" }, grey)).options.html), S.U.sym_other);
      row(swatch(S.symbol("parks", Object.assign({ level: "provincial", doc: false }, grey)).options.html), S.U.sym_catalogue);
      row(swatch(S.symbol("projects", grey).options.html), S.U.sym_project);
      var sited = ["parks", "projects"].some(function (lid) { return S.layerById(lid).sited; });  // a solid symbol only when one is drawn
      if (sited) row(swatch(S.symbol("parks", { level: "", color: key.precision, approx: false }).options.html), S.U.solid);
    }
    function hollow() {
      row(swatch(S.symbol("parks", { level: "", color: key.precision, approx: true }).options.html), S.U.hollow);
    }
    function lines() {  // each corridor line drawn, in its own colour; the cluster areas when they are switched on
      [["cluster_lines", S.U.corridor, 4], ["clusters", S.U.cluster_area, 0]].forEach(function (spec) {
        var lid = spec[0];
        if (S.state.l.indexOf(lid) < 0) return;
        var shown = S.layerById(lid).features.filter(function (p) { return S.areaVisible(lid, p); });
        if (!shown.length) return;
        box.appendChild(S.el("div", { class: "atl-lh" }, spec[1]));
        shown.forEach(function (p) {
          var c = S.colour(p.color);
          var svg = spec[2] ? '<svg width="22" height="10"><line x1="1" y1="5" x2="21" y2="5" stroke="' + c + '" stroke-width="4"/></svg>'
            : '<svg width="18" height="12"><rect x="1" y="1" width="16" height="10" fill="' + c + '" fill-opacity=".2" stroke="' + c +
              '" stroke-dasharray="3 2"/></svg>';
          row(swatch(svg), p.name || "");
        });
      });
    }
    function rivers() {
      if (S.state.base === "none") row(swatch('<svg width="22" height="10"><line x1="1" y1="5" x2="21" y2="5" stroke="' +
        S.colour(S.D.style.water) + '" stroke-width="2"/></svg>'), S.U.rivers);
    }
    function shading() {
      if (S.state.measure === "none") return;
      box.appendChild(S.el("div", { class: "atl-lh" }, S.U.shading + " · " + measureTitle()));
      var st = S.D.style, edge = S.colour(S.layerById("cities").style.color);  // outlined as the cities are
      var rect = function (colour, opacity) {
        return swatch('<svg width="18" height="12"><rect width="18" height="12" fill="' + S.colour(colour) + '" fill-opacity="' +
          Number(opacity) + '" stroke="' + edge + '"/></svg>');
      };
      if (S.state.measure.indexOf("sector:") === 0) {
        row(rect(st.sector.colour, st.sector.opacity), "✓");
      } else {  // the classes as print labels them
        (st.classes[S.state.measure] || []).forEach(function (c) { row(rect(c.colour, st.shade_opacity), c.label); });
      }
    }
    function sectors() {
      var used = {};  // each point's first sector (from the page: a tiled layer has no features here)
      ["parks", "projects"].forEach(function (lid) {
        var lay = S.layerById(lid);
        if (compact && !lay.tiles) {  // the compact key: the industries of the points drawn
          if (S.state.l.indexOf(lid) < 0) return;
          lay.features.forEach(function (p) { if (p.xy && p.sec.length && S.pointVisible(lid, p)) used[p.sec[0]] = true; });
        } else lay.lead.forEach(function (code) { used[code] = true; });
      });
      var shown = S.D.sectors.filter(function (s) { return used[s.code]; });
      if (!shown.length) return;
      box.appendChild(S.el("div", { class: "atl-lh" }, S.U.sectors_legend));
      shown.forEach(function (s) {
        row(swatch('<svg width="12" height="12"><circle cx="6" cy="6" r="5" fill="' + S.colour(s.color) + '"/></svg>'), s.name);
      });
    }

    if (!compact) {
      [symbols, hollow, lines, rivers, shading, sectors].forEach(function (f) { f(); });
      return;
    }
    [shading, sectors, lines, hollow].forEach(function (f) { f(); });
    var all = S.el("button", { type: "button", class: "atl-btn atl-legend-all" }, S.U.legend_all);
    all.addEventListener("click", function () {
      S.legendCompact = false;
      var d = S.$("atl-legend");
      if (d) d.classList.remove("atl-compact");
      renderLegend();
    });
    box.appendChild(all);
  }

  function measureTitle() {
    if (S.state.measure === "n_parks") return S.U.m_n_parks;
    if (S.state.measure === "n_projects") return S.U.m_n_projects;
    var code = S.state.measure.slice(7);
    var s = S.D.sectors.filter(function (x) { return x.code === code; })[0];
    return S.U.m_sector + (s ? s.name : code);
  }

  function setupLegend() {
    if (S.$("atl-legend-body")) { renderLegend(); return; }  // the full page has it in the panel
    var Legend = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        // Open from the start: a reader must see the key of the colours shown. In a small frame
        // (an embed under 900 px wide) it starts as a compact key the map is fitted beside,
        // unless the embed asks for the whole legend (legend=1).
        var d = S.el("details", { class: "atl-legend leaflet-bar", id: "atl-legend" });
        S.legendCompact = !S.state.legend && S.map.getSize().x < 900;
        if (S.legendCompact) d.classList.add("atl-compact");
        d.open = true;
        d.appendChild(S.el("summary", {}, S.U.legend));
        d.appendChild(S.el("div", { id: "atl-legend-body" }));
        L.DomEvent.disableClickPropagation(d);
        L.DomEvent.disableScrollPropagation(d);
        return d;
      }
    });
    S.map.addControl(new Legend());
    renderLegend();
  }

  // ------------------------------------------------------------------ cluster view
  function setupCluster() {
    var c = S.D.cluster;
    if (!c) return;
    var badges = L.layerGroup().addTo(S.map);
    c.members.forEach(function (m) {
      if (!m.xy) return;
      var d = S.el("div", { class: "atl-badge" });
      d.appendChild(S.el("b", {}, c.ordered ? m.n : "•"));
      d.appendChild(S.el("span", {}, m.name));
      L.marker(m.xy, { icon: L.divIcon({ className: "atl-badge-wrap", html: d.outerHTML, iconSize: null }),
        interactive: false, keyboard: false, zIndexOffset: 1000 }).addTo(badges);
    });
    var box = S.$("atl-cluster");
    if (!box) return;
    box.hidden = false;
    box.appendChild(S.el("h2", {}, c.name));
    if (c.name2 && c.name2 !== c.name) box.appendChild(S.el("div", { class: "atl-en" }, c.name2));
    box.appendChild(S.el("div", { class: "atl-muted" }, c.kind + (c.sectors.length ? " · " + c.sectors.join(" · ") : "")));
    box.appendChild(S.el("h3", {}, S.U.members));
    var ol = S.el(c.ordered ? "ol" : "ul", { class: "atl-members" });
    c.members.forEach(function (m) {
      var li = S.el("li", { "data-adcode": String(m.adcode) });
      li.appendChild(S.el("b", {}, m.name));
      if (m.role) {
        li.appendChild(S.el("div", {}, m.role));
        if (m.quote) {
          var q = S.el("q", { class: "atl-muted" }, m.quote);
          if (m.cite_url && /^\//.test(m.cite_url)) {  // a link into the document reader only
            var a = S.el("a", { href: m.cite_url, target: "_blank", rel: "noopener" });
            a.appendChild(q);
            q = a;
          }
          li.appendChild(q);
        }
      } else li.appendChild(S.el("div", { class: "atl-muted" }, S.U.no_role));
      ol.appendChild(li);
    });
    box.appendChild(ol);
    [["parks", S.U.along_parks], ["projects", S.U.along_projects]].forEach(function (pair) {
      var ids = c[pair[0]];
      box.appendChild(S.el("h3", {}, pair[1] + " (" + ids.length + ")"));
      var ul = S.el("ul", { class: "atl-along" });
      if (!ids.length) ul.appendChild(S.el("li", { class: "atl-muted" }, S.U.none_listed));
      ids.forEach(function (id) {
        var row = S.D.search.filter(function (r) { return r[0] === pair[0] && r[1] === id; })[0];
        var a = S.el("a", { href: "#", "data-id": id }, row ? row[2] : id);
        a.addEventListener("click", function (e) { e.preventDefault(); S.openFeature(pair[0], id, true); });
        var li = S.el("li");
        li.appendChild(a);
        ul.appendChild(li);
      });
      box.appendChild(ul);
    });
  }

  // ------------------------------------------------------------------ base maps
  function setupBase() {
    var b = S.D.bases.filter(function (x) { return x.id === S.state.base; })[0];
    S.map.createPane("hydro").style.zIndex = 250;
    if (b && b.url) {
      var opts = { attribution: b.attribution, maxZoom: 18 };
      if (b.subdomains) opts.subdomains = b.subdomains;
      L.tileLayer(b.url, opts).addTo(S.map);
      if (b.overlay) L.tileLayer(b.overlay, opts).addTo(S.map);
      return;
    }
    S.map.attributionControl.addAttribution(b ? b.attribution : "");
    var st = S.D.style;
    [["lakes", { color: st.water, weight: 0.6, fillColor: st.lake_fill, fillOpacity: 0.9 }],
     ["rivers", { color: st.water, weight: 1.4, opacity: 0.9 }]].forEach(function (pair) {
      S.pending++;
      fetch(S.D.urls[pair[0]], { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (gj) {
          if (gj) L.geoJSON(gj, { pane: "hydro", interactive: false, style: pair[1] }).addTo(S.map);
        }).catch(function () { /* the base is decoration: the map works without it */ })
        .finally(function () { S.pending--; checkReady(); });
    });
  }

  function checkReady() {
    if (S.pending === 0 && A._initialised && !A.ready) {
      A.ready = true;
      document.body.setAttribute("data-ready", "1");
      if (A._restore) { var r = A._restore; A._restore = null; S.openFeature(r[0], r[1], false); }
    }
  }

  // what the other parts call
  S.renderLegend = renderLegend;
  S.setupLegend = setupLegend;
  S.setupCluster = setupCluster;
  S.setupBase = setupBase;
  S.checkReady = checkReady;
})(window.AtlasMap);
