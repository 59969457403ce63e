// The site form's map: click to put the site there, drag the marker to move it; either fills
// the latitude and longitude fields, and typing coordinates moves the marker. The ground is the
// territories' outlines (GeoJSON from the server), with raster tiles only when the server names
// a tile URL, so the form works without internet. Loaded with the page's CSP nonce.
(() => {
  "use strict";
  const element = document.getElementById("site-map");
  const lat = document.getElementById("site-lat");
  const lon = document.getElementById("site-lon");
  if (!element || !lat || !lon || typeof L === "undefined") return;
  const outlines = JSON.parse(document.getElementById("site-outlines").textContent);

  const map = L.map(element, { zoomSnap: 0.25, attributionControl: Boolean(element.dataset.tileUrl) });
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, { maxZoom: 19, attribution: element.dataset.tileAttribution || "" }).addTo(map);
  }
  const ground = L.geoJSON(outlines, {
    style: (f) => ({
      color: f.properties.selected ? "#1d4f86" : "#64748b",
      weight: f.properties.selected ? 2.5 : 1.5,
      fillColor: f.properties.selected ? "#dbeafe" : "#e2e8f0",
      fillOpacity: 0.3,
    }),
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.name} (${f.properties.code})`),
  }).addTo(map);

  const icon = L.icon({
    iconUrl: "/static/vendor/leaflet/images/marker-icon.png",
    iconRetinaUrl: "/static/vendor/leaflet/images/marker-icon-2x.png",
    shadowUrl: "/static/vendor/leaflet/images/marker-shadow.png",
    iconSize: [25, 41], iconAnchor: [12, 41], shadowSize: [41, 41],
  });
  let marker = null;
  const read = (input, limit) => {
    const value = Number.parseFloat(input.value.replace(",", "."));
    return Number.isFinite(value) && Math.abs(value) <= limit ? value : null;
  };
  const fill = (point) => {
    lat.value = point.lat.toFixed(6);
    lon.value = point.lng.toFixed(6);
    lat.dispatchEvent(new Event("change", { bubbles: true }));
  };
  const place = (point) => {
    if (marker) {
      marker.setLatLng(point);
      return;
    }
    marker = L.marker(point, { draggable: true, icon, keyboard: false }).addTo(map);
    marker.on("dragend", () => fill(marker.getLatLng()));
  };
  map.on("click", (event) => {
    place(event.latlng);
    fill(event.latlng);
  });
  const typed = () => {
    const a = read(lat, 90);
    const b = read(lon, 180);
    if (a === null || b === null) return;
    place([a, b]);
    map.panTo([a, b]);
  };
  lat.addEventListener("input", typed);
  lon.addEventListener("input", typed);

  // The view: the site when it has coordinates, else the chosen territory, else all of them.
  const territory = document.getElementById("f-territory");
  const fitTerritory = () => {
    let bounds = null;
    ground.eachLayer((layer) => {
      const p = layer.feature.properties;
      const wanted = territory ? p.id === territory.value : p.selected;
      if (wanted) bounds = layer.getBounds();
    });
    bounds = bounds || (ground.getLayers().length ? ground.getBounds() : null);
    if (bounds && bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12] });
    else map.setView([48.0, 68.0], 4);
  };
  if (read(lat, 90) !== null && read(lon, 180) !== null) {
    place([read(lat, 90), read(lon, 180)]);
    map.setView([read(lat, 90), read(lon, 180)], 14);
  } else {
    fitTerritory();
  }
  if (territory) territory.addEventListener("change", () => { if (!marker) fitTerritory(); });
  // The map may start inside a closed <details> (a new site of a known customer).
  const dialog = element.closest("details");
  if (dialog) dialog.addEventListener("toggle", () => { map.invalidateSize(); if (!marker) fitTerritory(); });
})();
