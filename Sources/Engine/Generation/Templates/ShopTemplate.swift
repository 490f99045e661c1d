import Protocol
import VectortCore
import Generation

/// A shop catalogue: a product grid with search, category filter and sorting, and a cart kept
/// in `localStorage`. Checkout is a stub: no payment is taken.
enum ShopTemplate {
    typealias E = StarterEscaping

    static func files(_ copy: StarterCopy) -> [ProjectFile] {
        StarterScaffold.files(
            copy, kind: .shop, body: body(copy), styles: styles, script: script(copy),
            readme: StarterScaffold.readme(
                copy,
                summary: "A shop catalogue built from the shop starter.",
                features: [
                    "A product grid with search, a category filter and sorting by price or name.",
                    "A cart with quantities and a running total, saved in the browser's `localStorage`.",
                    "A checkout button that confirms the order without taking a payment: connect your payment provider there.",
                ],
                customise: [
                    "List your products in `PRODUCTS` at the top of `app.js` (prices are in cents).",
                    "Set `CURRENCY` to your currency code.",
                    "Replace the checkout handler with a call to your payment provider.",
                ]))
    }

    static func tagline(_ copy: StarterCopy) -> String {
        copy.subject == StarterCopy.defaultSubject
            ? "Hand-picked products, delivered to your door." : "Hand-picked \(copy.subject), delivered to your door."
    }

    static func body(_ copy: StarterCopy) -> String {
        let title = E.html(copy.title)
        return """
            <header class="site-header">
              <div class="container nav">
                <a class="brand" href="#">\(title)</a>
                <button id="cart-toggle" class="button small" type="button" aria-controls="cart" aria-expanded="false">
                  Cart (<span id="cart-count">0</span>)
                </button>
              </div>
            </header>
            <main class="container shop-main">
              <section class="shop-intro">
                <h1>\(title)</h1>
                <p class="lead">\(E.html(tagline(copy)))</p>
              </section>
              <section class="controls" aria-label="Find products">
                <input id="search" type="search" placeholder="Search products" aria-label="Search products">
                <select id="category" aria-label="Category">
                  <option value="">All categories</option>
                </select>
                <select id="sort" aria-label="Sort by">
                  <option value="featured">Featured</option>
                  <option value="price-asc">Price: low to high</option>
                  <option value="price-desc">Price: high to low</option>
                  <option value="name">Name</option>
                </select>
              </section>
              <p id="result-count" class="muted" aria-live="polite"></p>
              <section id="products" class="grid products" aria-label="Products"></section>
            </main>
            <aside id="cart" class="cart card" aria-label="Shopping cart" hidden>
              <div class="cart-header">
                <h2>Your cart</h2>
                <button id="cart-close" type="button" class="link">Close</button>
              </div>
              <ul id="cart-items" class="cart-items"></ul>
              <p class="cart-total">Total: <strong id="cart-total"></strong></p>
              <button id="checkout" type="button" class="button">Check out</button>
              <p id="checkout-status" class="muted" role="status" aria-live="polite"></p>
            </aside>
            <footer class="site-footer">
              <div class="container">\(title) &middot; \(E.html(copy.description))</div>
            </footer>
            """
    }

    struct Product {
        var name: String
        var category: String
        var summary: String
    }

    static func products(_ copy: StarterCopy) -> [Product] {
        let item = copy.subject == StarterCopy.defaultSubject ? "Product" : copy.subjectTitle
        let lower = copy.subject == StarterCopy.defaultSubject ? "product" : copy.subject
        return [
            Product(name: "Classic \(item)", category: "Essentials", summary: "Our best seller: the \(lower) that started it all."),
            Product(name: "Deluxe \(item)", category: "Premium", summary: "Finer materials and extra care in every detail."),
            Product(name: "\(item) Starter Kit", category: "Essentials", summary: "Everything you need to get going, in one box."),
            Product(name: "\(item) Gift Set", category: "Gifts", summary: "Wrapped and ready to give, with a handwritten card."),
            Product(name: "Limited Edition \(item)", category: "Premium", summary: "A small seasonal batch. When it is gone, it is gone."),
            Product(name: "Mini \(item) Sampler", category: "Gifts", summary: "Try a little of everything before you choose."),
            Product(name: "Everyday \(item)", category: "Essentials", summary: "Simple, reliable and fairly priced."),
            Product(name: "\(item) Subscription", category: "Premium", summary: "A fresh delivery every month. Pause any time."),
        ]
    }

    /// A price in cents between 6.00 and 59.00 ending in .00 or .50, fixed by the seed and name.
    static func price(_ product: Product, seed: UInt32) -> Int {
        let hash = StarterCopy.stableHash(String(seed) + product.name)
        return 600 + Int(hash % 107) * 50
    }

    static func script(_ copy: StarterCopy) -> String {
        let js = E.javaScriptString
        let products = products(copy).enumerated().map { index, product in
            "  { id: \(index + 1), name: \(js(product.name)), category: \(js(product.category)), "
                + "price: \(price(product, seed: copy.seed)), summary: \(js(product.summary)) }"
        }
        return StarterScaffold.scriptPrelude(copy) + #"""

            const CURRENCY = "USD";

            const PRODUCTS = [
            \#(products.joined(separator: ",\n")),
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

            """#
    }

    static let styles = """
        .shop-main { padding-block: 2rem; }
        .shop-intro h1 { font-size: clamp(2rem, 5vw, 2.8rem); margin-bottom: 0.25rem; }
        .shop-intro .lead { margin-top: 0; }

        .controls { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-block: 1.5rem 0.5rem; }
        .controls input { flex: 1 1 220px; }

        .product-card { display: flex; flex-direction: column; gap: 0.4rem; }
        .product-card h2 { font-size: 1.1rem; margin: 0; }
        .product-card .summary { margin: 0; color: var(--muted); flex: 1; }
        .category { margin: 0; font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; }
        .thumb {
          display: grid;
          place-items: center;
          aspect-ratio: 4 / 3;
          border-radius: 8px;
          background: linear-gradient(135deg, hsl(var(--hue, 240) 70% 62%), hsl(calc(var(--hue, 240) + 40) 70% 45%));
          color: #ffffff;
          font-size: 2rem;
          font-weight: 700;
          margin-bottom: 0.5rem;
        }
        .buy { display: flex; align-items: center; justify-content: space-between; gap: 0.5rem; margin-top: 0.5rem; }
        .price { font-weight: 700; font-size: 1.1rem; }

        .cart {
          position: fixed;
          top: 4.5rem;
          right: 1rem;
          width: min(380px, 100% - 2rem);
          max-height: calc(100vh - 6rem);
          overflow: auto;
          z-index: 10;
        }
        .cart[hidden] { display: none; }
        .cart-header { display: flex; align-items: center; justify-content: space-between; }
        .cart-header h2 { margin: 0; font-size: 1.2rem; }
        .cart-items { list-style: none; padding: 0; margin: 1rem 0; }
        .cart-line {
          display: grid;
          grid-template-columns: 1fr auto auto;
          gap: 0.5rem;
          align-items: center;
          padding-block: 0.5rem;
          border-bottom: 1px solid var(--border);
        }
        .quantity { display: inline-flex; align-items: center; gap: 0.35rem; }
        .chip {
          border: 1px solid var(--border);
          background: var(--surface);
          color: var(--text);
          border-radius: 999px;
          min-width: 1.9rem;
          padding: 0.15rem 0.5rem;
          font: inherit;
          cursor: pointer;
        }
        .line-total { min-width: 5rem; text-align: right; }
        .cart-total { display: flex; justify-content: space-between; }
        .button:disabled { opacity: 0.5; cursor: not-allowed; }

        """
}
