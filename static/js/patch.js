// RFC 6902 JSON Patch, applied to the state the page holds.
//
// The server sends `patch` {from_version, version, ops} after the first full state when the
// page connects with `patches: true`. Its operations are add, remove and replace (the
// server's diff writes no others); test, move and copy are applied too, as RFC 6902 says.
// applyPatch returns a new document and never changes the one it was given, so a patch
// that fails half-way leaves the page's state as it was (the page then asks for the
// whole state again).

/** Return the keys of a JSON Pointer (RFC 6901). */
export function parsePointer(pointer) {
  if (pointer === "") return [];
  if (pointer[0] !== "/") throw new Error(`not a JSON pointer: ${pointer}`);
  return pointer.slice(1).split("/").map((key) => key.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function clone(value) {
  return value === undefined ? undefined : structuredClone(value);
}

function indexIn(list, key, adding) {
  if (adding && key === "-") return list.length;
  if (!/^(0|[1-9][0-9]*)$/.test(key)) throw new Error(`not an array index: ${key}`);
  const index = Number(key);
  if (index > list.length || (!adding && index === list.length)) {
    throw new Error(`index out of range: ${key}`);
  }
  return index;
}

// Copy the containers along the path (copy on write), so the original stays untouched.
function parentOf(root, keys) {
  let node = root;
  for (const key of keys.slice(0, -1)) {
    const child = Array.isArray(node) ? node[indexIn(node, key, false)] : node[key];
    if (child === null || typeof child !== "object") throw new Error(`no such path: ${key}`);
    const copy = Array.isArray(child) ? child.slice() : { ...child };
    if (Array.isArray(node)) node[Number(key)] = copy;
    else node[key] = copy;
    node = copy;
  }
  return node;
}

function read(root, keys) {
  let node = root;
  for (const key of keys) {
    if (node === null || typeof node !== "object") throw new Error(`no such path: ${key}`);
    node = Array.isArray(node) ? node[indexIn(node, key, false)] : node[key];
    if (node === undefined) throw new Error(`no such path: ${key}`);
  }
  return node;
}

function apply(root, op) {
  const keys = parsePointer(op.path);
  if (op.op === "test") {
    if (JSON.stringify(read(root, keys)) !== JSON.stringify(op.value)) throw new Error("test failed");
    return root;
  }
  if (op.op === "move" || op.op === "copy") {
    const value = clone(read(root, parsePointer(op.from)));
    const moved = op.op === "move" ? apply(root, { op: "remove", path: op.from }) : root;
    return apply(moved, { op: "add", path: op.path, value });
  }
  if (keys.length === 0) {
    if (op.op === "remove") throw new Error("cannot remove the whole document");
    return clone(op.value);
  }
  const top = Array.isArray(root) ? root.slice() : { ...root };
  const parent = parentOf(top, keys);
  const last = keys[keys.length - 1];
  if (Array.isArray(parent)) {
    const index = indexIn(parent, last, op.op === "add");
    if (op.op === "add") parent.splice(index, 0, clone(op.value));
    else if (op.op === "remove") parent.splice(index, 1);
    else if (op.op === "replace") parent[index] = clone(op.value);
    else throw new Error(`unknown operation: ${op.op}`);
  } else {
    const present = Object.prototype.hasOwnProperty.call(parent, last);
    if (op.op === "add") parent[last] = clone(op.value);
    else if (op.op === "remove" || op.op === "replace") {
      if (!present) throw new Error(`no such key: ${last}`);
      if (op.op === "remove") delete parent[last];
      else parent[last] = clone(op.value);
    } else throw new Error(`unknown operation: ${op.op}`);
  }
  return top;
}

/** Return `document` with the operations `ops` applied (throw if one cannot be). */
export function applyPatch(document, ops) {
  let result = document;
  for (const op of ops) result = apply(result, op);
  return result;
}
