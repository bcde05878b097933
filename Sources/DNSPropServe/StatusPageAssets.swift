/// The status page's stylesheet and script, served as `/app.css` and `/app.js` (the page's only
/// other resources). The script only fetches `/live` — HTML the server escaped — and puts it in place.
public enum StatusPageAssets {
    public static let css = """
        :root { color-scheme: light; --current: #2e9e44; --stale: #d9a400; --parked: #b03bb0; --bad: #d0342c; --grey: #8a8f98; }
        body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 12px 16px; color: #1d232b; background: #f6f7f9; }
        body.offline main { opacity: .55; }
        h1 { font-size: 20px; margin: 4px 0; } h2 { font-size: 16px; margin: 16px 0 6px; }
        .names { font-family: ui-monospace, monospace; }
        .meta, .note, .axis-label { color: #555; margin: 2px 0; } .note { color: #8a5a00; }
        .outcome { font-size: 13px; padding: 2px 8px; border-radius: 10px; color: #fff; vertical-align: middle; }
        .outcome-converged { background: var(--current); } .outcome-notConverged { background: var(--bad); } .outcome-cannotTell { background: var(--grey); }
        .top { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
        .summary { display: flex; gap: 12px; flex: 1 1 340px; background: #fff; border-radius: 8px; padding: 12px; }
        .gauge { width: 150px; flex: none; } .gauge-bg, .gauge-fg { fill: none; stroke-width: 12; } .gauge-bg { stroke: #e3e6ea; } .gauge-fg { stroke: var(--current); }
        .gauge-text { font-size: 18px; font-weight: 600; text-anchor: middle; } .gauge-sub { font-size: 8px; text-anchor: middle; fill: #555; }
        .counts { flex: 1; } .big { font-size: 16px; font-weight: 600; margin: 0 0 6px; }
        .bar { width: 100%; height: 16px; border-radius: 3px; background: #e3e6ea; }
        .legend { list-style: none; padding: 0; margin: 6px 0; display: flex; flex-wrap: wrap; gap: 10px; }
        .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
        .times dt { font-weight: 600; } .times dd { margin: 0 0 4px; }
        .mapbox { flex: 2 1 520px; background: #fff; border-radius: 8px; padding: 8px; }
        .map { width: 100%; height: auto; display: block; } .sea { fill: #eaf1f8; } .land { fill: #cfd6de; } .graticule { stroke: #dde5ee; stroke-width: .5; fill: none; }
        .dot { stroke: #fff; stroke-width: 1; }
        .timeline, .results { background: #fff; border-radius: 8px; padding: 8px 12px; margin-top: 16px; }
        .curve { width: 100%; height: 120px; } .axis { stroke: #e3e6ea; fill: none; } .line { fill: none; stroke: var(--current); stroke-width: 2; } .pt { fill: var(--current); }
        .events { margin: 4px 0; padding-left: 20px; max-height: 220px; overflow: auto; }
        table { border-collapse: collapse; width: 100%; font-size: 13px; }
        th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eceef1; vertical-align: top; }
        td.addr, td.answers { font-family: ui-monospace, monospace; word-break: break-all; } td.reason { color: #444; }
        tr.flipped { background: #fffbe6; }
        details.more summary { cursor: pointer; color: #555; font-size: 12px; } details.more ul { margin: 2px 0; padding-left: 14px; }
        span.answers { font-family: ui-monospace, monospace; word-break: break-all; }
        .tag { padding: 0 6px; border-radius: 8px; color: #fff; font-size: 12px; } .more { color: #777; font-size: 12px; }
        .st-current { fill: var(--current); background: var(--current); } .st-stale { fill: var(--stale); background: var(--stale); }
        .st-parked { fill: var(--parked); background: var(--parked); }
        .st-nxdomain, .st-nodata, .st-servfail { fill: var(--bad); background: var(--bad); }
        .st-refused, .st-timeout, .st-error { fill: var(--grey); background: var(--grey); }
        tr[class^="st-"], tr[class*=" st-"] { background: none; } tr.flipped { background: #fffbe6; }
        footer { color: #777; margin: 16px 0; font-size: 12px; }

        """

    public static let js = """
        "use strict";
        (function () {
          var live = document.getElementById("live");
          if (!live || !window.fetch) { return; }
          function refresh() {
            fetch("/live", { cache: "no-store" })
              .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
              .then(function (html) { live.innerHTML = html; document.body.classList.remove("offline"); })
              .catch(function () { document.body.classList.add("offline"); });
          }
          window.setInterval(refresh, 2000);
        })();

        """
}
