// The dispatch map: territory outlines, the day's visit sites and technicians' last positions.
// Layers are GeoJSON embedded by the server (application/json blocks); raster tiles are added
// only when the server names a tile URL, otherwise the map is outlines and points on plain
// ground, so the page works without internet. Loaded with the page's CSP nonce.
(() => {
  "use strict";
  const element = document.getElementById("dispatch-map");
  if (!element || typeof L === "undefined") return;
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  const outlines = read("layer-outlines");
  const sites = read("layer-sites");
  const technicians = read("layer-technicians");
  const texts = document.getElementById("map-texts").dataset;
  const statusText = (status) => texts["status" + status.split("_").map((p) => p[0].toUpperCase() + p.slice(1)).join("")] || status;

  const map = L.map(element, { zoomSnap: 0.25, attributionControl: Boolean(element.dataset.tileUrl) });
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, { maxZoom: 19, attribution: element.dataset.tileAttribution || "" }).addTo(map);
  }
  const outlineLayer = L.geoJSON(outlines, {
    style: (f) => ({
      color: f.properties.selected ? "#1d4f86" : "#64748b",
      weight: f.properties.selected ? 3 : 1.5,
      fillColor: f.properties.selected ? "#dbeafe" : "#e2e8f0",
      fillOpacity: f.properties.selected ? 0.35 : 0.2,
    }),
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.name} (${f.properties.code})`),
  }).addTo(map);

  const siteList = document.getElementById("map-sites");
  const siteLayer = L.geoJSON(sites, {
    pointToLayer: (f, latlng) => L.circleMarker(latlng, {
      radius: 8, weight: 2, color: f.properties.late ? "#b91c1c" : "#1d4f86",
      fillColor: f.properties.late ? "#fca5a5" : "#93c5fd", fillOpacity: 0.9,
    }),
    onEachFeature: (f, layer) => {
      const p = f.properties;
      const line = `${p.window} · ${p.number} · ${p.address} · ${statusText(p.status)}${p.late ? " · " + texts.late : ""} · ${p.technician}`;
      layer.bindTooltip(line);
      const item = document.createElement("li");
      item.textContent = line;
      if (p.late) item.className = "late";
      siteList.appendChild(item);
    },
  }).addTo(map);

  const techList = document.getElementById("map-technicians");
  const techLayer = L.geoJSON(technicians, {
    pointToLayer: (f, latlng) => L.circleMarker(latlng, {
      radius: 7, weight: 2, color: "#14532d", fillColor: "#4ade80", fillOpacity: 0.95,
    }),
    onEachFeature: (f, layer) => {
      const line = `${f.properties.name} · ${f.properties.at}`;
      layer.bindTooltip(line);
      const item = document.createElement("li");
      item.textContent = line;
      techList.appendChild(item);
    },
  }).addTo(map);
  if (!technicians.features.length) {
    const item = document.createElement("li");
    item.className = "muted";
    item.textContent = texts.noPosition;
    techList.appendChild(item);
  }

  const selected = L.geoJSON({ type: "FeatureCollection", features: outlines.features.filter((f) => f.properties.selected) });
  const bounds = selected.getBounds().isValid() ? selected.getBounds() : outlineLayer.getBounds();
  if (bounds.isValid()) {
    bounds.extend(siteLayer.getBounds().isValid() ? siteLayer.getBounds() : bounds);
    bounds.extend(techLayer.getBounds().isValid() ? techLayer.getBounds() : bounds);
    map.fitBounds(bounds, { padding: [16, 16] });
  } else {
    map.setView([43.24, 76.95], 11);
  }
  element.dataset.ready = "true";
})();
