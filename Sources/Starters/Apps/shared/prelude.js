"use strict";

const STORAGE_PREFIX = "{{slug}}";
const memoryStore = new Map();

function load(key, fallback) {
  try {
    const raw = window.localStorage.getItem(STORAGE_PREFIX + ":" + key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch (error) {
    return memoryStore.has(key) ? memoryStore.get(key) : fallback;
  }
}

function save(key, value) {
  memoryStore.set(key, value);
  try {
    window.localStorage.setItem(STORAGE_PREFIX + ":" + key, JSON.stringify(value));
  } catch (error) {
    // Storage is unavailable or full: the in-memory copy lasts until the page closes.
  }
}

// Builds an element. Text always goes in as text nodes, never as HTML.
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}
