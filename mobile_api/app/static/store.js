// IndexedDB: everything the app knows survives a reload or a killed app.
// kv: session, device id, language, bundle, pull cursor, local visit state, changes seen.
// ops: operations waiting for (or done with) the server, in the order they were made.
// photos: downscaled photo bytes with their hash until the server has confirmed them.
const DB_NAME = "naryad-app";
let opened = null;

function db() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        const d = request.result;
        d.createObjectStore("kv");
        d.createObjectStore("ops", { keyPath: "seq", autoIncrement: true }).createIndex("id", "id", { unique: true });
        d.createObjectStore("photos", { keyPath: "local_id" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opened;
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function tx(store, mode, work) {
  const d = await db();
  const t = d.transaction(store, mode);
  const result = await work(t.objectStore(store));
  await new Promise((resolve, reject) => {
    t.oncomplete = resolve;
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
  return result;
}

export const kv = {
  get: (key) => tx("kv", "readonly", (s) => done(s.get(key))),
  set: (key, value) => tx("kv", "readwrite", (s) => done(s.put(value, key))),
  del: (key) => tx("kv", "readwrite", (s) => done(s.delete(key))),
};

export const ops = {
  add: (record) => tx("ops", "readwrite", (s) => done(s.add(record))),
  put: (record) => tx("ops", "readwrite", (s) => done(s.put(record))),
  all: () => tx("ops", "readonly", (s) => done(s.getAll())),
};

export const photos = {
  put: (record) => tx("photos", "readwrite", (s) => done(s.put(record))),
  get: (id) => tx("photos", "readonly", (s) => done(s.get(id))),
  all: () => tx("photos", "readonly", (s) => done(s.getAll())),
};

export async function wipe() {
  const d = await db();
  for (const name of ["kv", "ops", "photos"]) {
    await tx(name, "readwrite", (s) => done(s.clear()));
  }
  return d;
}

export function newId() {
  return crypto.randomUUID();
}
