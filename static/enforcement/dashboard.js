// The dashboard's map (指挥中心看板): the street's grid cells drawn from GeoJSON with ECharts (no
// tile server), coloured by their open cases and red where a case is overdue, and the open
// cases as dots. The server counts (enforcement.dashboard); the browser only draws, every 30 s.
// Strict CSP: the canvas renderer, tooltips drawn on the canvas too (richText: an HTML tooltip
// would carry style attributes), and element styles only through the CSSOM.
(() => {
  const REFRESH_MS = 30000;
  // Five bands of one ramp, dark text readable on each; red is kept for overdue alone.
  const BANDS = [
    { key: "none", color: "#eceff3" },
    { key: "few", color: "#c6dbf2" },
    { key: "some", color: "#7eaee3" },
    { key: "many", color: "#2f6db5" },
    { key: "overdue", color: "#c62828" },
  ];

  function band(properties) {
    if (properties.overdue > 0) return 4;
    if (properties.open >= 6) return 3;
    if (properties.open >= 3) return 2;
    if (properties.open >= 1) return 1;
    return 0;
  }

  // Type size follows the map's width: legible on a desk screen, and across a room on a wall.
  function fontSize(el) {
    return Math.round(Math.min(30, Math.max(12, el.clientWidth / 85)));
  }

  function shortName(name) {
    // "石门坎社区第3网格" → "第3网格": the community is plain from where the cell lies.
    const at = name.lastIndexOf("社区");
    return at >= 0 && at + 2 < name.length ? name.slice(at + 2) : name;
  }

  // The street's extent in degrees: [west, south, east, north].
  function bounds(features) {
    const box = [180, 90, -180, -90];
    for (const feature of features) {
      const polygons = feature.geometry.type === "MultiPolygon"
        ? feature.geometry.coordinates : [feature.geometry.coordinates];
      for (const polygon of polygons) {
        for (const [lng, lat] of polygon[0]) {
          box[0] = Math.min(box[0], lng);
          box[1] = Math.min(box[1], lat);
          box[2] = Math.max(box[2], lng);
          box[3] = Math.max(box[3], lat);
        }
      }
    }
    return box;
  }

  // The largest box of the street's true shape (a degree of longitude is cos(latitude) of
  // one of latitude) that fits the panel under the legend: ECharts stretches the map when it is
  // given all four sides, so it is given the box itself.
  function fit(el, features, top, margin, bottom) {
    const [west, south, east, north] = bounds(features);
    const aspectScale = Math.cos((((south + north) / 2) * Math.PI) / 180);
    const ratio = north > south ? ((east - west) / (north - south)) * aspectScale : 1;
    const room = { width: el.clientWidth - 2 * margin, height: el.clientHeight - top - bottom };
    const width = Math.max(10, Math.min(room.width, room.height * ratio));
    const height = width / ratio;
    return {
      aspectScale,
      left: Math.round((el.clientWidth - width) / 2),
      top: Math.round(top + (room.height - height) / 2),
      width: Math.round(width),
      height: Math.round(height),
    };
  }

  // Exterior rings of a Polygon or MultiPolygon, as [lng, lat] lists.
  function rings(geometry) {
    const polygons = geometry.type === "MultiPolygon" ? geometry.coordinates : [geometry.coordinates];
    return polygons.map((polygon) => polygon[0]);
  }

  function setUp(el) {
    const config = el.dataset; // URLs and translated labels, from the template
    const status = document.getElementById("grid-map-status");
    const chart = echarts.init(el, null, { renderer: "canvas" });
    let cells = new Map();
    let registered = "";
    let drawnAt = null;
    let last = null;

    function say(text, stale) {
      if (!status) return;
      status.textContent = text;
      status.classList.toggle("stale", Boolean(stale));
    }

    function option(data) {
      const size = fontSize(el);
      const statusLabels = data.status_labels || {};
      // A narrow panel (a phone) stacks the legend and shows only the counts in the cells.
      const narrow = el.clientWidth < 48 * size;
      const legendHeight = narrow ? Math.round(BANDS.length * size * 1.7 + size) : Math.round(size * 2.6);
      return {
        animation: false,
        tooltip: {
          trigger: "item",
          renderMode: "richText",
          textStyle: { fontSize: size },
          formatter(params) {
            if (params.seriesType === "scatter") {
              const [, , number, state] = params.data.value;
              return config.labelCase + " " + number + "\n" + (statusLabels[state] || state);
            }
            const cell = cells.get(params.name);
            if (!cell) return params.name;
            return cell.name + "\n" + config.labelOpen + ": " + cell.open
              + "\n" + config.labelOverdueCount + ": " + cell.overdue;
          },
        },
        visualMap: {
          type: "piecewise",
          seriesIndex: 0,
          dimension: 0,
          orient: narrow ? "vertical" : "horizontal",
          top: 0,
          left: narrow ? 0 : "center",
          itemWidth: size * 1.6,
          itemHeight: size * 1.1,
          itemGap: narrow ? Math.round(size * 0.6) : size,
          itemSymbol: "rect",
          padding: [Math.round(size * 0.3), size],
          textStyle: { color: "#1f2933", fontSize: size },
          pieces: BANDS.map((b, i) => ({ value: i, label: config["label" + b.key[0].toUpperCase() + b.key.slice(1)], color: b.color })),
          selectedMode: false,
        },
        geo: {
          map: "street",
          nameProperty: "code",
          roam: true,
          scaleLimit: { min: 0.8, max: 8 },
          ...fit(el, data.features, legendHeight, Math.round(size * 0.5), Math.round(size * (narrow ? 0.5 : 2))),
          selectedMode: false,
          itemStyle: { areaColor: BANDS[0].color, borderColor: "#ffffff", borderWidth: 1.5 },
          emphasis: {
            itemStyle: { areaColor: "#ffd54f", borderColor: "#1f2933", borderWidth: 2 },
            label: { show: true, color: "#1f2933" },
          },
          label: {
            show: true,
            // a light box under each label: legible on every band, red included, and over dots
            backgroundColor: "rgba(255, 255, 255, 0.82)",
            borderRadius: 3,
            padding: [2, 4],
            formatter(params) {
              const cell = cells.get(params.name);
              if (!cell) return "";
              if (narrow) return cell.open ? "{c|" + cell.open + "}" : "";
              const name = "{n|" + shortName(cell.name) + "}";
              return cell.open ? name + " {c|" + cell.open + "}" : name;
            },
            rich: {
              n: { fontSize: Math.round(size * 0.8), color: "#1f2933" },
              c: { fontSize: Math.round(size * 1.1), fontWeight: "bold", color: "#1f2933" },
            },
          },
        },
        series: [
          {
            type: "map",
            geoIndex: 0,
            nameProperty: "code",
            data: data.features.map((f) => ({ name: f.properties.code, value: band(f.properties) })),
          },
          {
            type: "scatter",
            name: config.labelDots,
            coordinateSystem: "geo",
            symbolSize: Math.max(6, Math.round(size * 0.5)),
            itemStyle: { color: "#1f2933", borderColor: "#ffffff", borderWidth: 1.5, opacity: 0.85 },
            emphasis: { scale: 1.8 },
            data: data.cases.map((c) => ({ value: c })),
            z: 4,
          },
          {
            // the first-level cells (片区): outlines over the cells, their names under the map
            type: "lines",
            coordinateSystem: "geo",
            polyline: true,
            silent: true,
            z: 3,
            lineStyle: { color: "#1f2933", width: Math.max(2, Math.round(size * 0.2)), opacity: 0.9 },
            data: (data.areas || []).flatMap((a) => rings(a.geometry).map((ring) => ({ coords: ring }))),
          },
          {
            type: "scatter",
            coordinateSystem: "geo",
            silent: true,
            tooltip: { show: false },
            symbolSize: 0,
            label: {
              show: true,
              position: "bottom",
              distance: Math.round(size * 0.3),
              formatter: "{b}",
              fontSize: size,
              fontWeight: "bold",
              color: "#1f2933",
            },
            data: narrow ? [] : (data.areas || []).map((a) => {
              const [west, south, east] = bounds([{ geometry: a.geometry }]);
              return { name: a.name, value: [(west + east) / 2, south] };
            }),
          },
        ],
      };
    }

    function draw(data) {
      cells = new Map(data.features.map((f) => [f.properties.code, f.properties]));
      const signature = data.features.map((f) => f.properties.code).join(",");
      const fresh = signature !== registered;
      if (fresh) {
        echarts.registerMap("street", { type: "FeatureCollection", features: data.features });
        registered = signature;
      }
      last = data;
      // Merged into what is drawn, so a refresh keeps the user's zoom and pan; drawn anew
      // only when the street's cells changed.
      chart.setOption(option(data), { notMerge: fresh });
      drawnAt = new Date();
    }

    // The cells ECharts actually painted (each region is one compound path in the canvas's
    // display list; dots are paths, outlines polylines), for tests and for the curious.
    chart.on("finished", () => {
      const painted = chart.getZr().storage.getDisplayList().filter((e) => e.type === "compound");
      const drawn = String(painted.length);
      if (el.dataset.cellsDrawn !== drawn) el.dataset.cellsDrawn = drawn;
    });

    chart.on("click", (params) => {
      if (params.seriesType === "scatter") {
        const number = params.data.value[2];
        window.location.href = config.caseUrl.replace("CASE-NUMBER", encodeURIComponent(number));
      } else if (cells.has(params.name)) {
        window.location.href = config.deskUrl + "?cell=" + encodeURIComponent(params.name);
      }
    });

    async function load() {
      try {
        const response = await fetch(config.mapUrl, { headers: { Accept: "application/geo+json" }, credentials: "same-origin" });
        if (response.redirected) {
          window.location.reload(); // signed out: the page itself goes to the login
          return;
        }
        if (!response.ok) throw new Error(String(response.status));
        draw(await response.json());
        say("");
      } catch (error) {
        say(drawnAt ? status.dataset.stale + " " + drawnAt.toLocaleTimeString() : status.dataset.failed, true);
      }
    }

    let timer = null;
    function schedule() {
      clearInterval(timer);
      timer = setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
    }
    document.addEventListener("visibilitychange", () => { if (!document.hidden) { load(); schedule(); } });

    let resizing = null;
    function resize() {
      clearTimeout(resizing);
      resizing = setTimeout(() => {
        chart.resize();
        if (last) chart.setOption(option(last)); // type sizes follow the width
      }, 150);
    }
    // The panel follows the window (and the wall screen's layout), not only window resizes.
    if (window.ResizeObserver) new ResizeObserver(resize).observe(el);
    else window.addEventListener("resize", resize);

    load();
    schedule();
  }

  // The counters are refreshed by htmx; a session that ended answers with the login page, which
  // must not be swapped into the panel: reload, and the page goes to the login.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail.xhr;
    if (xhr && xhr.responseURL && new URL(xhr.responseURL).pathname !== new URL(event.detail.requestConfig.path, window.location.href).pathname) {
      event.detail.shouldSwap = false;
      window.location.reload();
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form[data-autosubmit]")) {
      form.addEventListener("change", () => form.requestSubmit());
    }
    const el = document.getElementById("grid-map");
    if (el && window.echarts) setUp(el);
  });
})();
