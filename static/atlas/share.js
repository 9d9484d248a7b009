/* Hubei Cluster Atlas · the interactive map, part "share": the Share and export panel: link, iframe, exports of the view, print, download what you see; the embed bar.
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

  // ------------------------------------------------------------------ share panel
  function embedPath() {
    if (S.D.view === "layer") return S.D.urls.embed + "/map/" + encodeURIComponent(S.D.layer);
    if (S.D.view === "cluster") return S.D.urls.embed + "/cluster/" + encodeURIComponent(S.D.cluster_id);
    return S.D.urls.embed;
  }
  function fullPath() {
    if (S.D.view === "layer") return S.D.urls.atlas + "map/" + encodeURIComponent(S.D.layer);
    if (S.D.view === "cluster") return S.D.urls.atlas + "cluster/" + encodeURIComponent(S.D.cluster_id);
    return S.D.urls.atlas;
  }
  A.shareLinks = function () {
    var opts = {};
    ["legend", "filters"].forEach(function (k) { var cb = S.$("atl-embed-opt-" + k); if (cb && cb.checked) opts[k] = "1"; });
    var origin = window.location.origin, q = "?" + S.query();
    // The embed carries the view (city, filters, layers, shading…), not this screen's centre
    // and zoom: the embedded page fits what the view selects to its own frame (print.js).
    var eq = new URLSearchParams(S.query(opts));
    eq.delete("c");
    eq.delete("z");
    var embed = origin + embedPath() + (eq.toString() ? "?" + eq.toString() : "");
    var title = document.title.replace(/"/g, "");
    return {
      link: origin + fullPath() + q,
      embed: embed,
      iframe: '<iframe src="' + embed.replace(/&/g, "&amp;").replace(/"/g, "&quot;") + '" width="800" height="600" ' +
        'style="border:0" loading="lazy" title="' + title.replace(/&/g, "&amp;").replace(/</g, "&lt;") + '"></iframe>'
    };
  };

  // Exports of the view: each takes the view's parameters it accepts in the server's table
  // (server/view/params.py: the print map and the offline page the filters, layers and shading;
  // the deck the cluster, the city and the language), never the base map or the selection. The
  // export frames what the view selects (a city, a cluster's members, else Hubei); the screen's
  // centre and zoom go along only when "export the area on screen" is ticked.
  function viewParams(surface) {
    var out = new URLSearchParams();
    S.D.params.forEach(function (p) {
      if (p.surfaces.indexOf(surface) < 0 || p.name === "c" || p.name === "z") return;
      var v = p.name === "l" ? S.state.l.join(",") : S.state[p.name];
      if (p.name === "cluster") v = S.D.view === "cluster" ? S.D.cluster_id : "";
      if (p.name === "l" && S.D.view === "layer") v = S.D.layer;
      if (v !== undefined && v !== null && v !== "" && v !== p.default) out.set(p.name, v);
    });
    return out;
  }
  A.exportLinks = function () {
    var e = viewParams("export"), deck = viewParams("deck"), screen = S.$("atl-export-screen");
    if (screen && screen.checked) {
      var x = S.screenExtent();
      e.set("c", x.c);
      e.set("z", String(x.z));
    }
    var s = e.toString() ? "?" + e.toString() : "", d = deck.toString() ? "?" + deck.toString() : "";
    return { png: S.D.urls.export + "map.png" + s, pdf: S.D.urls.export + "map.pdf" + s,
             pptx: S.D.urls.export + "briefing.pptx" + d, html: S.D.urls.export + "map.html" + s };
  };

  // "Download what I see": each visible layer, under the active filters, in every format.
  var DATA_FORMATS = [["geojson", "GeoJSON"], ["csv", "CSV"], ["csvzh", "CSV（中文表头）"], ["gpkg", "GeoPackage"],
                      ["kml", "KML"]];
  A.dataLinks = function () {
    var out = [];
    S.state.l.forEach(function (lid) {
      var q = new URLSearchParams(), lay = S.layerById(lid);
      if (!lay) return;
      if (S.D.cluster && (lid === "parks" || lid === "projects")) {
        var ids = lid === "parks" ? S.D.cluster.parks : S.D.cluster.projects;
        if (!ids.length) return;
        q.set("id", ids.join(","));
      } else if (S.D.cluster && (lid === "clusters" || lid === "cluster_lines")) {
        q.set("id", S.D.cluster.id);
      } else {  // the view's filters under the API's names (the table's `api`): doc/cat are true/false
        var filters = lid === "parks" ? ["sector", "city", "kind", "level", "named"]
          : lid === "projects" ? ["sector", "city"] : (lid === "clusters" || lid === "cluster_lines") ? ["sector"] : [];
        filters.forEach(function (k) {
          var v = S.state[k];
          if (k === "named" && v) v = v === "doc" ? "true" : "false";
          if (v) q.set(S.param(k).api, v);
        });
      }
      var links = DATA_FORMATS.map(function (f) {
        var fq = new URLSearchParams(q);
        if (f[0] === "csvzh") fq.set("headers", "zh");
        var ext = f[0] === "csvzh" ? "csv" : f[0], s = fq.toString();
        return { label: f[1], href: S.D.urls.download + lid + "." + ext + (s ? "?" + s : "") };
      });
      out.push({ layer: lid, title: lay.title, links: links });
    });
    return out;
  };

  function renderDataLinks() {
    var box = S.$("atl-data-links");
    if (!box) return;
    box.textContent = "";
    A.dataLinks().forEach(function (d) {
      var row = S.el("div", { class: "atl-data-row", "data-layer": d.layer });
      row.appendChild(S.el("span", {}, d.title + "："));
      d.links.forEach(function (l, i) {
        if (i) row.appendChild(document.createTextNode(" · "));
        row.appendChild(S.el("a", { href: l.href, download: "" }, l.label));
      });
      box.appendChild(row);
    });
  }

  function copyButton(target) {
    var b = S.el("button", { type: "button", class: "atl-btn" }, S.U.copy);
    b.addEventListener("click", function () {
      target.select();
      var done = function () { b.textContent = S.U.copied; setTimeout(function () { b.textContent = S.U.copy; }, 1500); };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(target.value).then(done, done);
      else { try { document.execCommand("copy"); } catch (e) { /* selected for manual copy */ } done(); }
    });
    return b;
  }

  function setupShare(box) {
    if (!box) return;
    box.appendChild(S.el("label", { for: "atl-share-link" }, S.U.link));
    var link = S.el("input", { id: "atl-share-link", type: "text", readonly: "readonly" });
    box.appendChild(link);
    box.appendChild(copyButton(link));
    box.appendChild(S.el("label", { for: "atl-share-iframe" }, S.U.iframe));
    var code = S.el("textarea", { id: "atl-share-iframe", rows: "4", readonly: "readonly" });
    box.appendChild(code);
    box.appendChild(copyButton(code));
    [["legend", S.U.embed_legend], ["filters", S.U.embed_filters]].forEach(function (o) {
      var lab = S.el("label", { class: "atl-check" });
      var cb = S.el("input", { type: "checkbox", id: "atl-embed-opt-" + o[0] });
      cb.addEventListener("change", updateShare);
      lab.appendChild(cb);
      lab.appendChild(document.createTextNode(" " + o[1]));
      box.appendChild(lab);
    });
    box.appendChild(S.el("p", { class: "atl-muted", id: "atl-embed-note" },
      S.D.frame_any ? S.U.embed_any : S.U.embed_some + " " + S.D.frame_ancestors));
    box.appendChild(S.el("label", {}, S.U.export));
    var row = S.el("div", { class: "atl-exports" });
    [["png", S.U.dl_png], ["pdf", S.U.dl_pdf], ["pptx", S.U.dl_pptx], ["html", S.U.dl_html]].forEach(function (f) {
      row.appendChild(S.el("a", { id: "atl-export-" + f[0], class: "atl-btn", href: "#", download: "" }, f[1]));
    });
    box.appendChild(row);
    var own = S.el("label", { class: "atl-check" });
    var screen = S.el("input", { type: "checkbox", id: "atl-export-screen" });
    screen.addEventListener("change", updateShare);
    own.appendChild(screen);
    own.appendChild(document.createTextNode(" " + S.U.export_screen));
    box.appendChild(own);
    box.appendChild(printRow());
    box.appendChild(S.el("label", {}, S.U.data_links));
    box.appendChild(S.el("div", { id: "atl-data-links" }));
  }

  // Print: the paper and orientation (the table's `paper` and `orient`, written to the link)
  // and the browser's print dialog. "As the print dialog sets" leaves both to the dialog.
  function printRow() {
    var row = S.el("div", { class: "atl-print-row" });
    row.appendChild(S.el("label", { for: "atl-paper" }, S.U.paper));
    var paper = S.el("select", { id: "atl-paper" }), orient = S.el("select", { id: "atl-orient" });
    [["", S.U.paper_auto]].concat(Object.keys(S.D.papers).map(function (k) { return [k, k]; })).forEach(function (o) {
      paper.appendChild(S.el("option", { value: o[0] }, o[1]));
    });
    [["landscape", S.U.landscape], ["portrait", S.U.portrait]].forEach(function (o) {
      orient.appendChild(S.el("option", { value: o[0] }, o[1]));
    });
    paper.value = S.namedPaper() ? S.state.paper : "";
    orient.value = S.state.orient;
    var change = function () { S.setPaper(paper.value, orient.value); };
    paper.addEventListener("change", change);
    orient.addEventListener("change", change);
    var go = S.el("button", { type: "button", class: "atl-btn", id: "atl-print" }, S.U.print);
    go.addEventListener("click", function () { window.print(); });
    var line = S.el("div", { class: "atl-exports" });
    line.appendChild(paper);
    line.appendChild(orient);
    line.appendChild(go);
    row.appendChild(line);
    row.appendChild(S.el("p", { class: "atl-muted atl-note-s" }, S.U.print_note));
    return row;
  }

  function updateShare() {
    var links = A.shareLinks();
    var link = S.$("atl-share-link"), code = S.$("atl-share-iframe"), full = S.$("atl-open-full");
    if (link) link.value = links.link;
    if (code) code.value = links.iframe;
    if (full) full.href = links.link;
    var ex = A.exportLinks();
    Object.keys(ex).forEach(function (k) { var a = S.$("atl-export-" + k); if (a) a.href = ex[k]; });
    renderDataLinks();
  }

  // The active filters in words: 行业：汽车 · 城市：武汉市 (for an embed that asks to show them).
  function filterSummary() {
    var parts = [];
    function nameOf(list, id) { var x = list.filter(function (o) { return String(o.id || o.code) === String(id); })[0]; return x ? x.name : id; }
    if (S.state.sector) parts.push(S.U.industry + "：" + nameOf(S.D.sectors, S.state.sector));
    if (S.state.city) parts.push(S.U.city + "：" + nameOf(S.D.cities, S.state.city));
    if (S.state.kind) parts.push(S.U.kind + "：" + nameOf(S.D.kinds, S.state.kind));
    if (S.state.level) parts.push(S.U.level + "：" + nameOf(S.D.levels, S.state.level));
    if (S.state.named) parts.push(S.U.named + "：" + (S.state.named === "doc" ? S.U.named_doc : S.U.named_cat));
    return parts.length ? S.U.filters + " · " + parts.join(" · ") : S.U.no_filters;
  }

  function embedControls() {
    var Share = L.Control.extend({
      options: { position: "topright" },
      onAdd: function () {
        var div = S.el("div", { class: "leaflet-bar atl-embed-bar" });
        var title = S.el("a", { id: "atl-open-full", href: "#", target: "_blank", rel: "noopener" },
          (S.D.cluster ? S.D.cluster.name + " · " : "") + S.U.title + " ↗");
        title.title = S.U.open_full;
        div.appendChild(title);
        if (S.state.filters) div.appendChild(S.el("div", { id: "atl-embed-filters", class: "atl-muted" }, filterSummary()));
        var details = S.el("details", { id: "atl-share-box" });
        details.appendChild(S.el("summary", {}, S.U.share));
        var inner = S.el("div", { id: "atl-share" });
        details.appendChild(inner);
        div.appendChild(details);
        setupShare(inner);
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      }
    });
    S.map.addControl(new Share());
  }

  // what the other parts call
  S.setupShare = setupShare;
  S.updateShare = updateShare;
  S.embedControls = embedControls;
})(window.AtlasMap);
