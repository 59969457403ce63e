// A photo from the camera: downscaled on a canvas, hashed, kept in IndexedDB until confirmed.
import { photos, newId } from "./store.js";

// The longer side in pixels when the day bundle does not say (NARYAD_PHOTO_MAX_SIDE sets it).
export const DEFAULT_MAX_SIDE = 1600;
export const QUALITY = 0.85;

async function decode(file) {
  if ("createImageBitmap" in window) {
    try {
      return await createImageBitmap(file);
    } catch {
      // fall through to <img>
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

export async function downscale(file, maxSide = DEFAULT_MAX_SIDE) {
  const image = await decode(file);
  const scale = Math.min(1, maxSide / Math.max(image.width, image.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(image.width * scale));
  canvas.height = Math.max(1, Math.round(image.height * scale));
  canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("encode"))), "image/jpeg", QUALITY),
  );
}

export async function sha256(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Store a taken photo for a visit's step, downscaled to maxSide; returns its record (the answer
// refers to its local id).
export async function keep(file, visitId, stepId, maxSide) {
  const blob = await downscale(file, maxSide || DEFAULT_MAX_SIDE);
  const record = {
    local_id: newId(),
    start_key: newId(),
    confirm_key: newId(),
    visit_id: visitId,
    step_id: stepId,
    blob,
    type: "image/jpeg",
    size: blob.size,
    sha256: await sha256(blob),
    state: "queued",
    taken_at: Date.now(),
  };
  await photos.put(record);
  return record;
}
