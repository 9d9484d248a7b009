/* Hubei Cluster Atlas · the interactive map, part "search": selection, opening a feature, the search box (a keyboard combobox).
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

  // ------------------------------------------------------------------ selection, search
  function select(lid, id) { S.state.sel = lid + ":" + id; S.writeState(); }
  function unselect(lid, id) {
    if (S.redrawing) return;  // the popup is about to reopen on the redrawn feature
    if (S.state.sel === lid + ":" + id) { S.state.sel = ""; S.writeState(); }
  }

  function openFeature(lid, id, move) {
    var lay = S.layerById(lid), p = S.props[lid] && S.props[lid][id];
    if (lay && lay.tiles) {  // drawn from vector tiles: its popup is fetched by id (tiles.js)
      if (S.state.l.indexOf(lid) < 0) { S.state.l.push(lid); S.syncLayerBoxes(); S.applyVisibility(); }
      S.openTiled(lid, id, move);
      return;
    }
    if (!lay || !p) return;
    if (S.state.l.indexOf(lid) < 0) { S.state.l.push(lid); S.syncLayerBoxes(); S.applyVisibility(); }
    if (lay.geom === "point") {
      var m = S.markers[lid][id];
      if (!m) return;
      if (!S.pointVisible(lid, p)) { S.clearFilters(); }
      if (move) S.groups[lid].zoomToShowLayer(m, function () { m.openPopup(); });
      // a shared link keeps its view, unless the popup would not fit on a phone's screen
      else {
        var small = S.map.getSize().x < 700;
        var pop = L.popup(Object.assign(S.popupOptions(), { autoPan: small, keepInView: small }))
          .setLatLng(m.getLatLng()).setContent(p.pop).openOn(S.map);
        // the first pan can be lost to the opening view's own move: pan once the map is still
        if (small) setTimeout(function () { if (pop.isOpen()) pop._adjustPan(); }, 400);
      }
      return;
    }
    S.drawArea(lid).then(function () {
      var target = null;
      S.drawn[lid] && S.drawn[lid].eachLayer(function (l) { if (l.feature.properties.id === p.id) target = l; });
      if (!target) return;
      if (move) S.map.fitBounds(target.getBounds(), { maxZoom: 10 });
      target.openPopup(move ? target.getBounds().getCenter() : undefined);
    });
  }

  function normalise(s) { return String(s || "").toLowerCase().replace(/\s+/g, ""); }

  A.search = function (text, all) {  // the best 12 for the list; `all`: every match
    var q = normalise(text);
    if (!q) return [];
    var out = [];
    S.D.search.forEach(function (row) {
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
    var input = S.$("atl-q"), list = S.$("atl-results");
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
      if (input.value && !results.length) list.appendChild(S.el("li", { class: "atl-muted" }, S.U.no_match));
      results.forEach(function (r, i) {
        var li = S.el("li", { id: "atl-r-" + i, role: "option", "aria-selected": "false",
                            "data-layer": r.layer, "data-id": String(r.id) });
        li.appendChild(S.el("span", { class: "atl-r-name" }, r.label));
        li.appendChild(S.el("span", { class: "atl-r-sub" }, r.sub));
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

  // what the other parts call
  S.select = select;
  S.unselect = unselect;
  S.openFeature = openFeature;
  S.setupSearch = setupSearch;
})(window.AtlasMap);
