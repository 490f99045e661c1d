{{> shared/prelude.js}}

const CURRENCY = "USD";

const PRODUCTS = [
{{#products}}
  { id: {{id}}, name: "{{name}}", category: "{{category}}", price: {{price}}, summary: "{{summary}}" },
{{/products}}
];

const money = new Intl.NumberFormat(undefined, { style: "currency", currency: CURRENCY });
const formatPrice = (cents) => money.format(cents / 100);

const state = {
  search: "",
  category: "",
  sort: "featured",
  cart: sanitizeCart(load("cart", {})),
};

// Drops cart lines for products that no longer exist and quantities that are not positive.
function sanitizeCart(saved) {
  const cart = {};
  for (const product of PRODUCTS) {
    const quantity = Number(saved && saved[product.id]);
    if (Number.isInteger(quantity) && quantity > 0) cart[product.id] = quantity;
  }
  return cart;
}

const grid = document.getElementById("products");
const cartPanel = document.getElementById("cart");
const cartToggle = document.getElementById("cart-toggle");

function hue(product) {
  let hash = 0;
  for (const character of product.name) hash = (hash * 31 + character.codePointAt(0)) % 360;
  return hash;
}

function initials(name) {
  return name.split(" ").filter(Boolean).slice(0, 2).map((word) => word[0].toUpperCase()).join("");
}

function visibleProducts() {
  const query = state.search.trim().toLowerCase();
  const matches = PRODUCTS.filter((product) =>
    (!state.category || product.category === state.category) &&
    (!query || (product.name + " " + product.summary).toLowerCase().includes(query)));
  const sorted = [...matches];
  if (state.sort === "price-asc") sorted.sort((a, b) => a.price - b.price);
  else if (state.sort === "price-desc") sorted.sort((a, b) => b.price - a.price);
  else if (state.sort === "name") sorted.sort((a, b) => a.name.localeCompare(b.name));
  return sorted;
}

function productCard(product) {
  const thumb = el("div", { className: "thumb", "aria-hidden": "true", text: initials(product.name) });
  thumb.style.setProperty("--hue", String(hue(product)));
  return el("article", { className: "card product-card" },
    thumb,
    el("p", { className: "category muted", text: product.category }),
    el("h2", { text: product.name }),
    el("p", { className: "summary", text: product.summary }),
    el("div", { className: "buy" },
      el("span", { className: "price", text: formatPrice(product.price) }),
      el("button", {
        type: "button",
        className: "button small",
        text: "Add to cart",
        "aria-label": "Add " + product.name + " to cart",
        onclick: () => changeQuantity(product.id, 1),
      })));
}

function renderProducts() {
  const products = visibleProducts();
  grid.replaceChildren(...products.map(productCard));
  document.getElementById("result-count").textContent =
    products.length === 1 ? "1 product" : products.length + " products";
}

function changeQuantity(id, delta) {
  const quantity = (state.cart[id] || 0) + delta;
  if (quantity > 0) state.cart[id] = quantity;
  else delete state.cart[id];
  save("cart", state.cart);
  document.getElementById("checkout-status").textContent = "";
  renderCart();
}

function renderCart() {
  const lines = PRODUCTS.filter((product) => state.cart[product.id]).map((product) => ({
    product,
    quantity: state.cart[product.id],
  }));
  const items = document.getElementById("cart-items");
  items.replaceChildren(
    ...lines.map(({ product, quantity }) =>
      el("li", { className: "cart-line" },
        el("span", { className: "cart-name", text: product.name }),
        el("span", { className: "quantity" },
          el("button", { type: "button", className: "chip", text: "-", "aria-label": "One fewer", onclick: () => changeQuantity(product.id, -1) }),
          el("span", { text: String(quantity) }),
          el("button", { type: "button", className: "chip", text: "+", "aria-label": "One more", onclick: () => changeQuantity(product.id, 1) })),
        el("span", { className: "line-total", text: formatPrice(product.price * quantity) })))
  );
  if (lines.length === 0) items.append(el("li", { className: "muted", text: "Your cart is empty." }));
  const count = lines.reduce((sum, line) => sum + line.quantity, 0);
  const total = lines.reduce((sum, line) => sum + line.quantity * line.product.price, 0);
  document.getElementById("cart-count").textContent = String(count);
  document.getElementById("cart-total").textContent = formatPrice(total);
  document.getElementById("checkout").disabled = count === 0;
  return { count, total };
}

function setCartOpen(open) {
  cartPanel.hidden = !open;
  cartToggle.setAttribute("aria-expanded", String(open));
}

function setUpControls() {
  const categories = [...new Set(PRODUCTS.map((product) => product.category))].sort();
  const select = document.getElementById("category");
  for (const category of categories) select.append(el("option", { value: category, text: category }));
  select.addEventListener("change", () => {
    state.category = select.value;
    renderProducts();
  });
  const search = document.getElementById("search");
  search.addEventListener("input", () => {
    state.search = search.value;
    renderProducts();
  });
  const sort = document.getElementById("sort");
  sort.addEventListener("change", () => {
    state.sort = sort.value;
    renderProducts();
  });
  cartToggle.addEventListener("click", () => setCartOpen(cartPanel.hidden));
  document.getElementById("cart-close").addEventListener("click", () => setCartOpen(false));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") setCartOpen(false);
  });
  document.getElementById("checkout").addEventListener("click", () => {
    const { count, total } = renderCart();
    if (count === 0) return;
    state.cart = {};
    save("cart", state.cart);
    renderCart();
    document.getElementById("checkout-status").textContent =
      "Thank you! " + count + (count === 1 ? " item" : " items") + " for " + formatPrice(total) +
      ". This demo shop takes no payment.";
  });
}

setUpControls();
renderProducts();
renderCart();
