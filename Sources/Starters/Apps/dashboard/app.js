{{> shared/prelude.js}}

const SEED = {{seed}};
const ITEM_LABEL = "{{#hasSubject}}{{subjectTitle}} order{{/hasSubject}}{{^hasSubject}}Order{{/hasSubject}}";
const SVG_NS = "http://www.w3.org/2000/svg";

const METRICS = [
  { key: "visitors", label: "Visitors", format: (value) => Math.round(value).toLocaleString() },
  { key: "signups", label: "Sign-ups", format: (value) => Math.round(value).toLocaleString() },
  { key: "revenue", label: "Revenue", format: (value) => formatMoney(value) },
  { key: "conversion", label: "Conversion", format: (value) => value.toFixed(1) + "%" },
];

const money = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", maximumFractionDigits: 0 });
const formatMoney = (value) => money.format(value);

// A small seeded generator (mulberry32): the same seed always gives the same sample data.
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function daysAgo(count) {
  const date = new Date();
  date.setHours(12, 0, 0, 0);
  date.setDate(date.getDate() - count);
  return date;
}

// Twice the range of days, so that the first half is the previous period.
function generateData(days) {
  const next = random(SEED + days);
  const base = 400 + Math.floor(next() * 1600);
  const series = [];
  for (let index = 0; index < days * 2; index += 1) {
    const trend = 1 + (index / (days * 2)) * (0.1 + next() * 0.3);
    const weekly = 1 + 0.15 * Math.sin((index / 7) * Math.PI * 2);
    const visitors = Math.round(base * trend * weekly * (0.85 + next() * 0.3));
    const signups = Math.round(visitors * (0.02 + next() * 0.04));
    const revenue = signups * (20 + next() * 30);
    series.push({ date: daysAgo(days * 2 - 1 - index), visitors, signups, revenue });
  }
  return series;
}

function totals(days) {
  const visitors = days.reduce((sum, day) => sum + day.visitors, 0);
  const signups = days.reduce((sum, day) => sum + day.signups, 0);
  const revenue = days.reduce((sum, day) => sum + day.revenue, 0);
  return { visitors, signups, revenue, conversion: visitors ? (signups / visitors) * 100 : 0 };
}

function renderStats(current, previous) {
  const now = totals(current);
  const before = totals(previous);
  document.getElementById("stats").replaceChildren(
    ...METRICS.map((metric) => {
      const change = before[metric.key] ? ((now[metric.key] - before[metric.key]) / before[metric.key]) * 100 : 0;
      const direction = change >= 0 ? "up" : "down";
      return el("article", { className: "card stat-card" },
        el("p", { className: "stat-label muted", text: metric.label }),
        el("p", { className: "stat-value", text: metric.format(now[metric.key]) }),
        el("p", { className: "stat-change " + direction, text: (change >= 0 ? "+" : "") + change.toFixed(1) + "% vs previous period" }));
    })
  );
}

function svg(tag, attributes) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

function renderChart(days) {
  const width = 640;
  const height = 260;
  const pad = { top: 16, right: 16, bottom: 28, left: 48 };
  const values = days.map((day) => day.visitors);
  const max = Math.max(...values) * 1.1;
  const x = (index) => pad.left + (index / Math.max(1, days.length - 1)) * (width - pad.left - pad.right);
  const y = (value) => height - pad.bottom - (value / max) * (height - pad.top - pad.bottom);

  const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, class: "chart-svg", "aria-hidden": "true" });
  for (let step = 0; step <= 4; step += 1) {
    const value = (max / 4) * step;
    chart.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(value), y2: y(value), class: "grid-line" }));
    const label = svg("text", { x: pad.left - 8, y: y(value) + 4, class: "axis-label", "text-anchor": "end" });
    label.textContent = Math.round(value).toLocaleString();
    chart.append(label);
  }
  const points = values.map((value, index) => x(index).toFixed(1) + "," + y(value).toFixed(1));
  const baseline = (height - pad.bottom).toFixed(1);
  chart.append(svg("path", {
    d: "M" + x(0).toFixed(1) + "," + baseline + " L" + points.join(" L") + " L" + x(values.length - 1).toFixed(1) + "," + baseline + " Z",
    class: "area",
  }));
  chart.append(svg("polyline", { points: points.join(" "), class: "line" }));
  const format = { month: "short", day: "numeric" };
  for (const index of [0, days.length - 1]) {
    const label = svg("text", { x: x(index), y: height - 8, class: "axis-label", "text-anchor": index === 0 ? "start" : "end" });
    label.textContent = days[index].date.toLocaleDateString(undefined, format);
    chart.append(label);
  }
  document.getElementById("chart").replaceChildren(chart);
  const peak = Math.max(...values);
  document.getElementById("chart-summary").textContent = "Peak " + peak.toLocaleString() + " a day";
}

let rows = [];
let sortKey = "date";
let sortDescending = true;

function buildRows(days) {
  const next = random(SEED * 7 + days.length);
  const statuses = ["Paid", "Paid", "Paid", "Pending", "Refunded"];
  return Array.from({ length: 8 }, (_, index) => ({
    date: days[Math.max(0, days.length - 1 - index * 2)].date,
    item: ITEM_LABEL + " #" + (1040 + Math.floor(next() * 900)),
    status: statuses[Math.floor(next() * statuses.length)],
    amount: Math.round(15 + next() * 240),
  }));
}

function renderTable() {
  const sorted = [...rows].sort((a, b) => {
    const left = a[sortKey];
    const right = b[sortKey];
    const order = typeof left === "string" ? left.localeCompare(right) : left - right;
    return sortDescending ? -order : order;
  });
  document.querySelector("#activity-table tbody").replaceChildren(
    ...sorted.map((row) =>
      el("tr", {},
        el("td", { text: row.date.toLocaleDateString() }),
        el("td", { text: row.item }),
        el("td", {}, el("span", { className: "status " + row.status.toLowerCase(), text: row.status })),
        el("td", { className: "number", text: formatMoney(row.amount) })))
  );
  for (const button of document.querySelectorAll("[data-sort]")) {
    const active = button.dataset.sort === sortKey;
    button.parentElement.setAttribute("aria-sort", active ? (sortDescending ? "descending" : "ascending") : "none");
  }
}

function render(rangeDays) {
  const data = generateData(rangeDays);
  const current = data.slice(rangeDays);
  renderStats(current, data.slice(0, rangeDays));
  renderChart(current);
  rows = buildRows(current);
  renderTable();
}

for (const button of document.querySelectorAll("[data-sort]")) {
  button.addEventListener("click", () => {
    if (sortKey === button.dataset.sort) sortDescending = !sortDescending;
    else {
      sortKey = button.dataset.sort;
      sortDescending = sortKey === "date" || sortKey === "amount";
    }
    renderTable();
  });
}

const rangeSelect = document.getElementById("range");
const savedRange = String(load("range", 30));
rangeSelect.value = ["7", "30", "90"].includes(savedRange) ? savedRange : "30";
rangeSelect.addEventListener("change", () => {
  save("range", Number(rangeSelect.value));
  render(Number(rangeSelect.value));
});
render(Number(rangeSelect.value));
