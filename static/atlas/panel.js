/* Hubei Cluster Atlas · the interactive map, part "panel": the side panel: layer switches, filters, city shading.
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

  // ------------------------------------------------------------------ the panel
  function syncLayerBoxes() {
    document.querySelectorAll("#atl-layers input[type=checkbox]").forEach(function (b) {
      b.checked = S.state.l.indexOf(b.value) >= 0;
    });
  }

  function setupLayers() {
    var box = S.$("atl-layers");
    if (!box) return;
    S.D.groups.forEach(function (g) {
      var fs = S.el("fieldset", { class: "atl-group", "data-group": g.id });
      fs.appendChild(S.el("legend", {}, g.title));
      g.layers.forEach(function (lid) {
        var lay = S.layerById(lid);
        var lab = S.el("label", {});
        var cb = S.el("input", { type: "checkbox", value: lid, name: "layer" });
        cb.checked = S.state.l.indexOf(lid) >= 0;
        cb.addEventListener("change", function () {
          S.state.l = S.D.layers.map(function (l) { return l.id; }).filter(function (id) {
            var b = document.querySelector('#atl-layers input[value="' + id + '"]');
            return b && b.checked;
          });
          S.applyVisibility();
          S.writeState();
        });
        lab.appendChild(cb);
        lab.appendChild(document.createTextNode(" " + lay.title + " "));
        lab.appendChild(S.el("span", { class: "atl-count" }, lay.count));
        fs.appendChild(lab);
      });
      box.appendChild(fs);
    });
  }

  function selectBox(id, label, options, value, onChange) {
    var lab = S.el("label", { class: "atl-sel" });
    lab.appendChild(S.el("span", {}, label));
    var s = S.el("select", { id: id });
    options.forEach(function (o) {
      var opt = S.el("option", { value: o[0] }, o[1]);
      if (o[2]) opt.disabled = true;
      s.appendChild(opt);
    });
    s.value = value;
    s.addEventListener("change", function () { onChange(s.value); });
    lab.appendChild(s);
    return lab;
  }

  function filtersChanged() {
    ["parks", "projects"].forEach(S.refreshPoints);
    ["clusters", "cluster_lines"].forEach(function (lid) { if (S.tiled[lid]) S.redrawTiles(lid); else S.drawArea(lid); });
    S.restyle("cities");
    S.renderLegend();
    S.writeState();
  }

  function clearFilters() {
    S.state.sector = S.state.city = S.state.kind = S.state.level = S.state.named = "";
    ["sector", "city", "kind", "level", "named"].forEach(function (k) { var s = S.$("atl-f-" + k); if (s) s.value = ""; });
    filtersChanged();
  }

  function setupFilters() {
    var box = S.$("atl-filters");
    if (!box) return;
    var all = ["", S.U.all];
    var used = S.D.sectors.filter(function (s) { return s.used; });
    box.appendChild(selectBox("atl-f-sector", S.U.industry, [all].concat(used.map(function (s) { return [s.code, s.name]; })),
      S.state.sector, function (v) { S.state.sector = v; filtersChanged(); }));
    box.appendChild(selectBox("atl-f-city", S.U.city, [all].concat(S.D.cities.map(function (c) { return [String(c.id), c.name]; })),
      S.state.city, function (v) {
        S.state.city = v;
        filtersChanged();
        if (v) fitCity(Number(v));
      }));
    box.appendChild(selectBox("atl-f-kind", S.U.kind, [all].concat(S.D.kinds.map(function (k) { return [k.id, k.name]; })),
      S.state.kind, function (v) { S.state.kind = v; filtersChanged(); }));
    box.appendChild(selectBox("atl-f-level", S.U.level, [all].concat(S.D.levels.map(function (k) { return [k.id, k.name]; })),
      S.state.level, function (v) { S.state.level = v; filtersChanged(); }));
    box.appendChild(selectBox("atl-f-named", S.U.named, [all, ["doc", S.U.named_doc], ["cat", S.U.named_cat]],
      S.state.named, function (v) { S.state.named = v; filtersChanged(); }));
    var reset = S.el("button", { type: "button", class: "atl-btn" }, S.U.reset);
    reset.addEventListener("click", clearFilters);
    box.appendChild(reset);
  }

  function fitCity(adcode) {
    var pts = [];
    ["parks", "projects"].forEach(function (lid) {
      S.layerById(lid).features.forEach(function (p) { if (p.city === adcode && p.xy) pts.push(p.xy); });
    });
    var done = false;
    if (S.drawn.cities) S.drawn.cities.eachLayer(function (l) {
      if (!done && l.feature.properties.id === adcode) { S.map.fitBounds(l.getBounds()); done = true; }
    });
    if (!done && pts.length) S.map.fitBounds(L.latLngBounds(pts).pad(0.3), { maxZoom: 10 });
  }

  function setupMeasure() {
    var box = S.$("atl-measure");
    var opts = [["none", S.U.m_none], ["n_parks", S.U.m_n_parks], ["n_projects", S.U.m_n_projects]];
    S.D.sectors.filter(function (s) { return s.used; }).forEach(function (s) { opts.push(["sector:" + s.code, S.U.m_sector + s.name]); });
    if (box) box.appendChild(selectBox("atl-f-measure", S.U.shading, opts, S.state.measure, function (v) {
      S.state.measure = v;
      if (S.state.l.indexOf("cities") < 0 && v !== "none") { S.state.l.push("cities"); syncLayerBoxes(); S.applyVisibility(); }
      S.restyle("cities");
      S.renderLegend();
      S.writeState();
    }));
  }

  function setupBases() {
    var box = S.$("atl-bases");
    if (!box) return;
    S.D.bases.forEach(function (b) {
      var lab = S.el("label", {});
      var r = S.el("input", { type: "radio", name: "base", value: b.id });
      r.checked = b.id === S.state.base;
      r.disabled = !b.available;
      r.addEventListener("change", function () {
        window.location.search = "?" + S.query({ base: b.id });  // the overlays' datum may change
      });
      lab.appendChild(r);
      lab.appendChild(document.createTextNode(" " + b.title + (b.available ? "" : S.U.no_key)));
      box.appendChild(lab);
    });
    if (S.D.datum === "gcj02") box.appendChild(S.el("p", { class: "atl-note-s" }, S.U.gcj_note));
  }

  // what the other parts call
  S.syncLayerBoxes = syncLayerBoxes;
  S.setupLayers = setupLayers;
  S.clearFilters = clearFilters;
  S.setupFilters = setupFilters;
  S.setupMeasure = setupMeasure;
  S.setupBases = setupBases;
})(window.AtlasMap);
