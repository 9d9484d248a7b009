/* Hubei Cluster Atlas · the interactive map, part "print": the view's extent fitted to a printed page or an embed's frame, the north arrow, the paper.
 *
 * The map script is split along its seams into static/atlas/*.js, loaded in order by the
 * page (server/maps/page.py); core.js makes the namespace AtlasMap and the state every part
 * shares (AtlasMap._, called S). Every part reads and writes the view through S and reaches
 * the other parts' functions as S.name. Popup and tooltip HTML arrive escaped by the server;
 * every other text is written with textContent.
 */
(function (A) {
  "use strict";

  var S = A._;

  // ------------------------------------------------------------------ the view's extent
  // What the view selects, by the exports' rule (server/view/export.py, given by the server as
  // S.D.extent): a cluster's members, else the chosen city, else all of Hubei.
  function viewBounds() {
    var e = S.D.extent;
    if (!S.D.cluster && S.state.city) {
      var c = S.D.cities.filter(function (x) { return String(x.id) === String(S.state.city); })[0];
      if (c && c.bounds) e = c.bounds;
    }
    return L.latLngBounds(e);
  }

  // The controls on the map's right side (the legend, an embed's bar) as boxes in the map's
  // pixels. The attribution line is left out (one line at the foot), and so is a control wider
  // than half the map (a phone: folded anyway).
  function rightControls() {
    var box = S.map.getContainer().getBoundingClientRect(), out = [];
    document.querySelectorAll(".leaflet-right .leaflet-control").forEach(function (c) {
      var r = c.getBoundingClientRect();
      if (r.height > 30 && box.right - r.left < box.width / 2)
        out.push({ w: box.right - r.left, top: r.top - box.top, bottom: box.bottom - r.bottom, h: r.height });
    });
    return out;
  }

  // Fit what the view selects to the map's box, clear of the controls over it: each control is
  // kept clear either beside the frame (its width off the right) or above or below it (its
  // height off the top or foot); of these ways the one that draws the view largest is taken.
  // The zoom snaps to quarters for this fit (`snap`), so the view fills the frame; zooming by
  // hand snaps back to whole levels. Print fits the same way (an embed's legend is on its map).
  function fitView(bounds, snap, maxZoom) {
    bounds = bounds || viewBounds();
    var controls = rightControls(), best = null, kept = S.map.options.zoomSnap;
    S.map.options.zoomSnap = snap === undefined ? 0.25 : snap;
    for (var way = 0; way < (1 << controls.length); way++) {
      var tl = [12, 12], br = [12, 12];
      controls.forEach(function (c, i) {
        if (way & (1 << i)) br[0] = Math.max(br[0], c.w + 12);
        else if (c.top < c.bottom) tl[1] = Math.max(tl[1], c.top + c.h + 12);
        else br[1] = Math.max(br[1], c.bottom + c.h + 12);
      });
      var pad = L.point(tl[0] + br[0], tl[1] + br[1]), size = S.map.getSize();
      if (size.x - pad.x < 80 || size.y - pad.y < 80) continue;  // no room left that way
      var z = S.map.getBoundsZoom(bounds, false, pad);
      if (!best || z > best.z) best = { z: z, tl: tl, br: br };
    }
    if (!best) best = { tl: [12, 12], br: [12, 12] };
    S.map.fitBounds(bounds, { paddingTopLeft: best.tl, paddingBottomRight: best.br, maxZoom: maxZoom || 10,
                              animate: false });
    S.map.options.zoomSnap = kept;
  }

  // ------------------------------------------------------------------ north arrow
  // Leaflet's Web Mercator keeps north up everywhere: one arrow serves every view. Shown in
  // print only: on paper a map needs it, on screen its corner holds the zoom buttons.
  function setupNorth() {
    var North = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var d = S.el("div", { class: "atl-north" });
        d.appendChild(S.el("span", {}, S.U.north));
        var svg = S.el("span", { class: "atl-north-arrow" });
        svg.innerHTML = '<svg width="18" height="26" viewBox="0 0 18 26" aria-hidden="true">' +
          '<path d="M9 1 L17 25 L9 19 Z" fill="#222"/><path d="M9 1 L1 25 L9 19 Z" fill="#fff" stroke="#222" stroke-width="1"/></svg>';
        d.appendChild(svg);
        return d;
      }
    });
    S.map.addControl(new North());
  }

  // ------------------------------------------------------------------ the paper
  // The page size the view names (`paper`, `orient` of the one parameter table, chosen in the
  // Share panel or given in the link) as @page; with neither, the print dialog's paper and
  // orientation decide and the layout follows them (atlas.css, @media print). Named is named in
  // the link the page was opened with (read here, before the page rewrites its URL) or chosen.
  var opened = new URLSearchParams(window.location.search);
  S.paperChosen = opened.has("paper") || opened.has("orient");
  function namedPaper() { return S.paperChosen; }

  function applyPaper() {
    var style = S.$("atl-page-size");
    if (!style) {
      style = S.el("style", { id: "atl-page-size" });
      document.head.appendChild(style);
    }
    var mm = S.D.papers[S.state.paper] || S.D.papers.A4, portrait = S.state.orient === "portrait";
    var w = portrait ? mm[1] : mm[0], h = portrait ? mm[0] : mm[1];
    var named = namedPaper();
    style.textContent = named ? "@page { size: " + w + "mm " + h + "mm; }" : "";
    // the orientation media query follows the dialog's paper, not @page: the layout is told
    document.body.classList.toggle("atl-paper-portrait", named && portrait);
    document.body.classList.toggle("atl-paper-landscape", named && !portrait);
  }

  function setPaper(paper, orient) {
    S.paperChosen = paper !== "";
    S.state.paper = paper || S.param("paper").default;
    S.state.orient = orient;
    if (!S.paperChosen && orient !== S.param("orient").default) S.paperChosen = true;
    applyPaper();
    S.writeState();
  }

  // ------------------------------------------------------------------ the browser's print
  // The stylesheet leaves the map, the whole legend, a title and the source line. Once the
  // print layout applies, the map is resized to its box on the page and fitted to what the
  // view selects (or to the screen's area when "export the area on screen" is ticked), at a
  // fractional zoom so it fills the box; the legend's type shrinks until every entry fits.
  // Afterwards the screen's view comes back.
  var saved = null;

  function fitLegend() {
    var body = S.$("atl-legend-body"), box = S.$("atl-panel") || S.$("atl-legend");
    if (!body || !box) return;
    body.style.fontSize = "";
    var size = 9;  // pt
    body.style.fontSize = size + "pt";
    while (size > 5 && (box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1)) {
      size -= 0.5;
      body.style.fontSize = size + "pt";
    }
  }

  // beforeprint comes first, in the screen's layout: the fit waits for the print layout (the
  // media query's change), where the map's box has its size on paper
  function enterPrint() {
    if (saved) { if (window.matchMedia("print").matches) fitPrinted(); return; }
    var legend = S.$("atl-legend"), screen = S.$("atl-export-screen");
    saved = { center: S.map.getCenter(), zoom: S.map.getZoom(), bounds: S.map.getBounds(),
              legend: legend ? legend.open : null, snap: S.map.options.zoomSnap,
              screen: !!(screen && screen.checked) };
    if (legend) legend.open = true;
    document.body.classList.add("atl-printing");
    S.map.options.zoomSnap = 0;
    if (window.matchMedia("print").matches) fitPrinted();
  }

  function fitPrinted() {
    fitLegend();
    S.map.invalidateSize({ animate: false });
    fitView(saved.screen ? saved.bounds : viewBounds(), 0, S.map.getMaxZoom());
  }

  function leavePrint() {
    if (!saved) return;
    var s = saved, legend = S.$("atl-legend"), body = S.$("atl-legend-body");
    saved = null;
    document.body.classList.remove("atl-printing");
    if (legend && s.legend !== null) legend.open = s.legend;
    if (body) body.style.fontSize = "";
    S.map.options.zoomSnap = s.snap;
    S.map.invalidateSize({ animate: false });
    S.map.setView(s.center, s.zoom, { animate: false });
  }

  function setupPrint() {
    applyPaper();
    var mq = window.matchMedia("print");
    var onChange = function (e) { if (e.matches) enterPrint(); else leavePrint(); };
    if (mq.addEventListener) mq.addEventListener("change", onChange);
    else if (mq.addListener) mq.addListener(onChange);
    window.addEventListener("beforeprint", enterPrint);
    window.addEventListener("afterprint", leavePrint);
  }

  // what the other parts call
  S.viewBounds = viewBounds;
  S.fitView = fitView;
  S.setupNorth = setupNorth;
  S.setupPrint = setupPrint;
  S.setPaper = setPaper;
  S.namedPaper = namedPaper;
})(window.AtlasMap);
